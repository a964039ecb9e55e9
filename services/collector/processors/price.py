"""price: the USD cost of each counted LLM call, from a project's override or genai-prices' data.

The pricing rules (token semantics, cost fields, why a call stays unpriced) are in
shared/pricing.py, which storage's re-pricing applies too. Spans without `llm` or not
`is_counted` pass through unchanged. The cost the instrumentation reported (`reported_usd`,
filled by normalisation from the attributes) is kept beside ours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.pricing import (
    DEFAULT_MAX_CACHED_LOOKUPS,
    GENAI_PRICES_VERSION,
    PROVIDER_IDS,
    SOURCE_GENAI_PRICES,
    SOURCE_OVERRIDE,
    PriceOverride,
    Resolve,
    build_resolver,
    genai_usage,
    price_call,
)
from shared.span import Span

from .base import Processor
from .price_override import parse_overrides
from .settings import SettingsReader

__all__ = [
    "GENAI_PRICES_VERSION", "PROVIDER_IDS", "SOURCE_GENAI_PRICES", "SOURCE_OVERRIDE",
    "PriceConfig", "build", "genai_usage",
]  # fmt: skip

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KEYS = ("overrides", "max_cached_lookups")


@dataclass(frozen=True, slots=True)
class PriceConfig:
    """Settings of price: per-project overrides and the size of its lookup caches.

    Rebuild the processor (`build(replace(config, overrides=...))`) when overrides change.
    """

    overrides: Mapping[str, tuple[PriceOverride, ...]] = field(default_factory=dict)
    max_cached_lookups: int = DEFAULT_MAX_CACHED_LOOKUPS

    def __post_init__(self) -> None:
        if self.max_cached_lookups < 1:
            raise ValueError(f"max_cached_lookups must be >= 1, got {self.max_cached_lookups}")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> PriceConfig:
        """Config from `{overrides: {project_id: [entry, ...]}, max_cached_lookups: int}`.

        Raises ValueError naming every bad key (e.g. `overrides['p1'][0].version: required`).
        """
        problems: list[str] = []
        reader = SettingsReader(mapping, "", problems)
        reader.reject_unknown(_KEYS)
        overrides = parse_overrides(mapping.get("overrides", {}), "overrides", problems)
        max_cached = reader.integer("max_cached_lookups", DEFAULT_MAX_CACHED_LOOKUPS, minimum=1)
        if problems:
            raise ValueError("; ".join(problems))
        return cls(overrides=overrides, max_cached_lookups=max_cached)


def build(config: PriceConfig) -> Processor:
    """Build the processor that prices counted LLM calls and keeps reported costs."""
    resolve = build_resolver(config.overrides, config.max_cached_lookups)

    def price(spans: Sequence[Span]) -> list[Span]:
        return [_price_span(span, resolve) for span in spans]

    return price


def _price_span(span: Span, resolve: Resolve) -> Span:
    llm = span.llm
    if llm is None or not llm.is_counted:
        return span
    # The reported cost is read from the attributes by normalisation; it is kept as it is.
    computed = price_call(resolve, span.project_id, llm, _request_time(span))
    cost = replace(computed, reported_usd=llm.cost.reported_usd)
    if cost == llm.cost:
        return span
    return replace(span, llm=replace(llm, cost=cost))


def _request_time(span: Span) -> datetime:
    """When the call was made: the span's start, or its receipt time when the start is missing."""
    nanos = span.start_time_unix_nano or span.received_unix_nano
    return _EPOCH + timedelta(microseconds=nanos // 1000)
