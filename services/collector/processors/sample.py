"""sample: keep every error, slow and expensive span, and a trace-consistent share of the rest.

Rules, each decided per span so the result does not depend on how spans are batched: an error
(status ERROR or `llm.is_error`, unless `keep_errors` is false), a span lasting at least
`slow_ms`, and an LLM call costing at least `expensive_usd` (computed cost, else the reported
one) are always kept; `slow_ms: null` or `expensive_usd: null` turns a rule off. Any other span
is kept when a hash of its trace id falls below `rate`, so a trace is kept or dropped whole,
the same way in every collector replica and batch; no randomness. Spans a rule keeps may stand
without their trace: waiting for whole traces is a stage's work, not a processor's.

Spans kept by the rate (rate below 1) carry `llmobs.sample_weight` = 1/rate (times any weight
they already had), so that sums over kept spans estimate the unsampled totals; spans a rule
keeps are all kept and carry no weight. The hash is BLAKE2b of the trace id, independent of the
SDKs' trace-id ratio samplers, so head sampling upstream does not skew the weights.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from shared.span import Span

from .base import Processor
from .settings import SettingsReader

WEIGHT_ATTRIBUTE = "llmobs.sample_weight"
DEFAULT_SLOW_MS = 5000
DEFAULT_EXPENSIVE_USD = Decimal(1)
_STATUS_ERROR = 2
_HASH_SPACE = 1 << 64
_NANOS_PER_MS = 1_000_000
_KEYS = ("rate", "keep_errors", "slow_ms", "expensive_usd")


@dataclass(frozen=True, slots=True)
class SampleConfig:
    """The share of unremarkable traces to keep, and the rules that keep spans regardless."""

    rate: Decimal = Decimal(1)
    keep_errors: bool = True
    slow_ms: int | None = DEFAULT_SLOW_MS
    expensive_usd: Decimal | None = DEFAULT_EXPENSIVE_USD

    def __post_init__(self) -> None:
        if not 0 < self.rate <= 1:
            raise ValueError(f"rate must be above 0 and at most 1, got {self.rate}")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> SampleConfig:
        """Build from the step's settings; ValueError names every bad key."""
        problems: list[str] = []
        reader = SettingsReader(mapping, "", problems)
        reader.reject_unknown(_KEYS)
        rate = reader.positive_decimal("rate", Decimal(1))
        if rate > 1:
            problems.append(f"rate: expected a decimal above 0 and at most 1, got {rate}")
        keep_errors = reader.boolean("keep_errors", True)
        slow_ms = (
            None if _is_null(mapping, "slow_ms") else reader.integer("slow_ms", DEFAULT_SLOW_MS)
        )
        expensive_usd = (
            None
            if _is_null(mapping, "expensive_usd")
            else reader.decimal("expensive_usd", DEFAULT_EXPENSIVE_USD)
        )
        if problems:
            raise ValueError("; ".join(problems))
        return cls(min(rate, Decimal(1)), keep_errors, slow_ms, expensive_usd)


def build(config: SampleConfig) -> Processor:
    """A processor keeping the spans the rules or the trace-id hash select, weighting the latter."""
    bound = int(config.rate * _HASH_SPACE)
    weight = float(1 / config.rate)

    def sample(spans: Sequence[Span]) -> list[Span]:
        if config.rate == 1:
            return list(spans)
        kept: list[Span] = []
        for span in spans:
            if _is_kept_by_rule(span, config):
                kept.append(span)
            elif trace_hash(span.trace_id) < bound:
                kept.append(_weighted(span, weight))
        return kept

    return sample


def trace_hash(trace_id: str) -> int:
    """A uniform 64-bit value of a trace id, the same for every span of the trace."""
    digest = hashlib.blake2b(trace_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _is_kept_by_rule(span: Span, config: SampleConfig) -> bool:
    llm = span.llm
    if config.keep_errors and (
        span.status_code == _STATUS_ERROR or (llm is not None and llm.is_error)
    ):
        return True
    if config.slow_ms is not None and span.duration_nano >= config.slow_ms * _NANOS_PER_MS:
        return True
    if config.expensive_usd is None or llm is None:
        return False
    cost = llm.cost.total_usd if llm.cost.total_usd is not None else llm.cost.reported_usd
    return cost is not None and cost >= config.expensive_usd


def _weighted(span: Span, weight: float) -> Span:
    """The span with its sample weight multiplied by `weight` (1 when it had none)."""
    previous = span.attributes.get(WEIGHT_ATTRIBUTE)
    if isinstance(previous, int | float) and not isinstance(previous, bool) and previous > 0:
        weight *= previous
    return replace(span, attributes={**span.attributes, WEIGHT_ATTRIBUTE: weight})


def _is_null(mapping: Mapping[str, Any], key: str) -> bool:
    """Whether `key` is given as null (turning its rule off), not merely absent."""
    return key in mapping and mapping[key] is None
