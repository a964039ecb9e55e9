"""price: the USD cost of each counted LLM call, from a project's override or genai-prices' data.

Token semantics. Our usage follows OTel: `input_tokens` includes cache-read and cache-write
tokens, `output_tokens` includes reasoning tokens. genai-prices' `Usage` means the same: its
`input_tokens` is the total of uncached, cache-read and cache-write tokens (its Anthropic
extractor adds the cache counts into it, and pricing subtracts the more specific counts from
their parent before applying each rate), and `output_reasoning_tokens` is a subset of
`output_tokens`. So the counts map one to one and no token is priced twice; the provider's raw
input count (`input_tokens_provider_raw`) is not used. Reasoning tokens are billed at the output
rate unless the model has its own reasoning rate (two Perplexity models in 0.2.3).

Cost fields. `input_usd`/`output_usd` are genai-prices' input and output prices; `input_usd`
includes the cache-read and cache-write costs that `cache_read_usd`/`cache_write_usd` break out
(None when the count is absent). `total_usd` may exceed input + output by per-request fees.
Amounts are exact Decimals, not rounded. Prices are those in force at the span's start time.

Unpriced calls keep `total_usd=None`, never $0, and say why through the other fields:
- no usage (source "absent", or neither input nor output count): `Cost()` untouched;
- no price for the model (or no model name): `price_version` set, `price_model` None;
- the model is priced but the usage is inconsistent (e.g. cache reads above input):
  `price_model` and `price_version` set.
Spans without `llm` or not `is_counted` pass through unchanged. The cost the instrumentation
reported (`reported_usd`, filled by normalisation from the attributes) is kept beside ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any

import genai_prices
from genai_prices.data import providers as BUNDLED_PROVIDERS
from genai_prices.data_snapshot import find_provider_by_id
from genai_prices.types import ModelInfo, ModelPrice, Provider, calc_unit_price

from shared.span import Cost, LLMCall, Span, Usage

from .base import Processor
from .price_override import OverrideTable, PriceOverride, parse_overrides
from .settings import SettingsReader

SOURCE_GENAI_PRICES = "genai-prices"
SOURCE_OVERRIDE = "project-override"
# The bundled data snapshot is fixed per package release, so the package version names it.
GENAI_PRICES_VERSION: str = genai_prices.__version__

# OTel `gen_ai.provider.name` -> genai-prices provider id. Other values go to genai-prices'
# own provider matching (`fireworks`, `openrouter`, `together_ai`, ...); one it does not know
# stays unpriced rather than being priced as some other provider's model.
PROVIDER_IDS: Mapping[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "x_ai": "x-ai",
    "mistral_ai": "mistral",
    "moonshot_ai": "moonshotai",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "groq": "groq",
    "perplexity": "perplexity",
}

_PER_MILLION = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KEYS = ("overrides", "max_cached_lookups")
DEFAULT_MAX_CACHED_LOOKUPS = 4096


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


@dataclass(frozen=True, slots=True)
class _Price:
    """A resolved price: the rates to compute with and what to record about them."""

    model_price: ModelPrice
    source: str
    model: str
    version: str


_Resolve = Callable[[str, str | None, tuple[str, ...], datetime], _Price | None]


def build(config: PriceConfig) -> Processor:
    """Build the processor that prices counted LLM calls and keeps reported costs."""
    overrides = OverrideTable(config.overrides)
    find_override = lru_cache(maxsize=config.max_cached_lookups)(overrides.find)
    # Matching a model name scans the provider's models (~15 us a hit, more for a miss); the
    # price at a timestamp is then a cheap exact lookup, so the cache key holds no time.
    find_model = lru_cache(maxsize=config.max_cached_lookups)(
        partial(_find_model, BUNDLED_PROVIDERS)
    )

    def resolve(
        project_id: str, provider: str | None, models: tuple[str, ...], when: datetime
    ) -> _Price | None:
        found = find_override(project_id, provider, models)
        if found is not None:
            entry, model_price = found
            return _Price(model_price, SOURCE_OVERRIDE, entry.model, entry.version)
        provider_id = PROVIDER_IDS.get(provider, provider) if provider else None
        for model in models:
            info = find_model(provider_id, model)
            if info is not None:
                prices = info.get_prices(when)
                return _Price(prices, SOURCE_GENAI_PRICES, info.id, GENAI_PRICES_VERSION)
        return None

    def price(spans: Sequence[Span]) -> list[Span]:
        return [_price_span(span, resolve) for span in spans]

    return price


def _price_span(span: Span, resolve: _Resolve) -> Span:
    llm = span.llm
    if llm is None or not llm.is_counted:
        return span
    # The reported cost is read from the attributes by normalisation; it is kept as it is.
    cost = replace(_cost(span, llm, resolve), reported_usd=llm.cost.reported_usd)
    if cost == llm.cost:
        return span
    return replace(span, llm=replace(llm, cost=cost))


def _cost(span: Span, llm: LLMCall, resolve: _Resolve) -> Cost:
    usage = llm.usage
    if usage.source == "absent" or (usage.input_tokens is None and usage.output_tokens is None):
        return Cost()
    models = tuple(dict.fromkeys(m for m in (llm.response_model, llm.request_model) if m))
    price = resolve(span.project_id, llm.provider, models, _request_time(span)) if models else None
    if price is None:
        return Cost(price_version=GENAI_PRICES_VERSION)
    try:
        return _compute(price, usage)
    except ValueError:  # genai-prices rejects inconsistent counts, e.g. cache reads > input
        return Cost(price_model=price.model, price_version=price.version)


def _compute(price: _Price, usage: Usage) -> Cost:
    rates = price.model_price
    amounts = rates.calc_price(genai_usage(usage))
    total_input = usage.input_tokens or 0
    return Cost(
        total_usd=amounts["total_price"],
        input_usd=amounts["input_price"],
        output_usd=amounts["output_price"],
        cache_read_usd=_part_usd(rates, "cache_read_mtok", usage.cache_read_tokens, total_input),
        cache_write_usd=_part_usd(rates, "cache_write_mtok", usage.cache_write_tokens, total_input),
        price_source=price.source,
        price_model=price.model,
        price_version=price.version,
    )


def genai_usage(usage: Usage) -> genai_prices.Usage:
    """Our OTel-semantics usage as genai-prices' Usage; the meanings match, so counts copy over."""
    counts = {
        "input_tokens": usage.input_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "output_tokens": usage.output_tokens,
        "output_reasoning_tokens": usage.reasoning_tokens,
    }
    return genai_prices.Usage(**{key: value for key, value in counts.items() if value is not None})


def _part_usd(
    rates: ModelPrice, price_key: str, tokens: int | None, total_input: int
) -> Decimal | None:
    """What `tokens` of one cache kind cost: its own rate, else the input rate genai-prices uses."""
    if tokens is None:
        return None
    rate = getattr(rates, price_key)
    if rate is None:
        rate = rates.input_mtok
    # Tiered rates pick their tier from the whole input, as genai-prices' calc_price does.
    return calc_unit_price(rate, tokens, total_input, _PER_MILLION)


def _find_model(providers: list[Provider], provider_id: str | None, model: str) -> ModelInfo | None:
    """genai-prices' model for a name, at the given provider or the one its name points to."""
    if provider_id is None:
        ref = model.lower()
        provider = next(
            (p for p in providers if p.model_match is not None and p.model_match.is_match(ref)),
            None,
        )
    else:
        provider = find_provider_by_id(providers, provider_id)
    return None if provider is None else provider.find_model(model, all_providers=providers)


def _request_time(span: Span) -> datetime:
    """When the call was made: the span's start, or its receipt time when the start is missing."""
    nanos = span.start_time_unix_nano or span.received_unix_nano
    return _EPOCH + timedelta(microseconds=nanos // 1000)
