"""The explicit registry of processor types: name -> builder from a mapping of settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from services.collector.pipeline import Builder, Step
from services.collector.processors import (
    estimate_tokens,
    normalize,
    price,
    redact,
    sample,
    truncate,
)
from services.collector.processors.base import Processor
from services.collector.processors.price_override import PriceOverride
from shared.log_record import LogRecord


@dataclass(frozen=True, slots=True)
class ProcessorContext:
    """What processors get from the process rather than from the pipeline file."""

    redact_stats: redact.RedactStats = field(default_factory=redact.RedactStats)
    # REDACT_HASH_SECRET: used when the pipeline file's redact step names no secret of its own.
    redact_hash_secret: str = field(default="", repr=False)
    # The per-project prices stored in the database as last read (read when a pipeline is
    # built; a change of them rebuilds the pipeline). They come before the file's overrides.
    price_overrides: Callable[[], Mapping[str, tuple[PriceOverride, ...]]] = lambda: {}


def _redact_config(settings: Mapping[str, Any], context: ProcessorContext) -> redact.RedactConfig:
    config = redact.RedactConfig.from_mapping(settings)
    if not config.hash_secret and context.redact_hash_secret:
        config = replace(config, hash_secret=context.redact_hash_secret)
    return config


def build_log_steps(
    steps_config: Sequence[Mapping[str, Any]], context: ProcessorContext
) -> list[Step[LogRecord]]:
    """The log-record steps a (validated) span pipeline config implies: each redact step, with
    the same policy, applied to log bodies and attributes."""
    return [
        Step(entry["type"], redact.build_for_logs(
            _redact_config(entry.get("config") or {}, context), context.redact_stats))
        for entry in steps_config
        if str(entry["type"]).split("/", 1)[0] == "redact"
    ]  # fmt: skip


def build_registry(context: ProcessorContext) -> Mapping[str, Builder]:
    """Every processor type, built with the process's context."""

    def build_redact(settings: Mapping[str, Any]) -> Processor:
        return redact.build(_redact_config(settings, context), context.redact_stats)

    def build_price(settings: Mapping[str, Any]) -> Processor:
        config = price.PriceConfig.from_mapping(settings)
        stored = context.price_overrides()
        if stored:
            projects = {*stored, *config.overrides}
            merged = {p: (*stored.get(p, ()), *config.overrides.get(p, ())) for p in projects}
            config = replace(config, overrides=merged)
        return price.build(config)

    return {
        "normalize": lambda m: normalize.build(normalize.NormalizeConfig.from_mapping(m)),
        "redact": build_redact,
        "estimate_tokens": lambda m: estimate_tokens.build(
            estimate_tokens.EstimateTokensConfig.from_mapping(m)
        ),
        "price": build_price,
        "truncate": lambda m: truncate.build(truncate.TruncateConfig.from_mapping(m)),
        "sample": lambda m: sample.build(sample.SampleConfig.from_mapping(m)),
    }


# Built with a default context, for tools and tests that need no redaction counts.
REGISTRY: Mapping[str, Builder] = build_registry(ProcessorContext())

# The pipeline run when no pipeline file is configured. Redaction comes right after
# normalisation, before anything else reads the content. `llm_metrics` is a built-in stage (see
# services/collector/llm_metrics.py), not a processor: build with it among the stages.
DEFAULT_STEPS: tuple[Mapping[str, Any], ...] = (
    {"type": "normalize"},
    {"type": "redact"},
    {"type": "estimate_tokens"},
    {"type": "price"},
    {"type": "llm_metrics"},
)
