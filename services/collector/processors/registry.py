"""The explicit registry of processor types: name -> builder from a mapping of settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.collector.pipeline import Builder
from services.collector.processors import estimate_tokens, normalize, price, sample, truncate

REGISTRY: Mapping[str, Builder] = {
    "normalize": lambda m: normalize.build(normalize.NormalizeConfig.from_mapping(m)),
    "estimate_tokens": lambda m: estimate_tokens.build(
        estimate_tokens.EstimateTokensConfig.from_mapping(m)
    ),
    "price": lambda m: price.build(price.PriceConfig.from_mapping(m)),
    "truncate": lambda m: truncate.build(truncate.TruncateConfig.from_mapping(m)),
    "sample": lambda m: sample.build(sample.SampleConfig.from_mapping(m)),
}

# The pipeline run when no pipeline file is configured. `llm_metrics` is a built-in stage (see
# services/collector/llm_metrics.py), not a processor: build with it among the stages.
DEFAULT_STEPS: tuple[Mapping[str, Any], ...] = (
    {"type": "normalize"},
    {"type": "estimate_tokens"},
    {"type": "price"},
    {"type": "llm_metrics"},
)
