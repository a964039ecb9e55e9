"""The explicit registry of processor types: name -> builder from a mapping of settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.collector.pipeline import Builder
from services.collector.processors import estimate_tokens, normalize, price

REGISTRY: Mapping[str, Builder] = {
    "normalize": lambda m: normalize.build(normalize.NormalizeConfig.from_mapping(m)),
    "estimate_tokens": lambda m: estimate_tokens.build(
        estimate_tokens.EstimateTokensConfig.from_mapping(m)
    ),
    "price": lambda m: price.build(price.PriceConfig.from_mapping(m)),
}

# The pipeline run when no pipeline file is configured.
DEFAULT_STEPS: tuple[Mapping[str, Any], ...] = (
    {"type": "normalize"},
    {"type": "estimate_tokens"},
    {"type": "price"},
)
