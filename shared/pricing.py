"""The USD cost of one LLM call, from a project's price override or genai-prices' bundled data:
the rules the collector's price step applies at ingestion and storage's re-pricing applies later.

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
Amounts are exact Decimals, not rounded. Prices are those in force at the call's start time.

Unpriced calls keep `total_usd=None`, never $0, and say why through the other fields:
- no usage (source "absent", or neither input nor output count): `Cost()` untouched;
- no price for the model (or no model name): `price_version` set, `price_model` None;
- the model is priced but the usage is inconsistent (e.g. cache reads above input):
  `price_model` and `price_version` set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache, partial

import genai_prices
from genai_prices.data import providers as BUNDLED_PROVIDERS
from genai_prices.data_snapshot import find_provider_by_id
from genai_prices.types import ModelInfo, ModelPrice, Provider, calc_unit_price

from shared.span import Cost, LLMCall, Usage

SOURCE_GENAI_PRICES = "genai-prices"
SOURCE_OVERRIDE = "project-override"
# The bundled data snapshot is fixed per package release, so the package version names it.
GENAI_PRICES_VERSION: str = genai_prices.__version__
MATCH_KINDS = ("exact", "prefix", "regex")
DEFAULT_MAX_CACHED_LOOKUPS = 4096

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


@dataclass(frozen=True, slots=True)
class PriceOverride:
    """A project's price for the models `model` matches, in USD per million tokens.

    Matching ignores case; `regex` must match the whole model name. `provider`, when set, must
    equal the call's provider (OTel `gen_ai.provider.name` values). Cache prices left unset bill
    those tokens at the input price, as genai-prices does.
    """

    model: str
    input_usd_per_million_tokens: Decimal
    output_usd_per_million_tokens: Decimal
    version: str
    match: str = "exact"
    provider: str | None = None
    cache_read_usd_per_million_tokens: Decimal | None = None
    cache_write_usd_per_million_tokens: Decimal | None = None

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    def model_price(self) -> ModelPrice:
        """The override as a genai-prices ModelPrice, so both price sources compute alike."""
        return ModelPrice(
            input_mtok=self.input_usd_per_million_tokens,
            output_mtok=self.output_usd_per_million_tokens,
            cache_read_mtok=self.cache_read_usd_per_million_tokens,
            cache_write_mtok=self.cache_write_usd_per_million_tokens,
        )


class OverrideTable:
    """Every project's overrides with their model matchers compiled once."""

    def __init__(self, overrides: Mapping[str, Sequence[PriceOverride]]) -> None:
        self._entries = {
            project_id: tuple((entry, _matcher(entry), entry.model_price()) for entry in entries)
            for project_id, entries in overrides.items()
        }

    def find(
        self, project_id: str, provider: str | None, models: tuple[str, ...]
    ) -> tuple[PriceOverride, ModelPrice] | None:
        """The project's first override (in configured order) matching the provider and a model."""
        for entry, matches, model_price in self._entries.get(project_id, ()):
            if entry.provider is not None and entry.provider != provider:
                continue
            if any(matches(model) for model in models):
                return entry, model_price
        return None


@dataclass(frozen=True, slots=True)
class Price:
    """A resolved price: the rates to compute with and what to record about them."""

    model_price: ModelPrice
    source: str
    model: str
    version: str


Resolve = Callable[[str, str | None, tuple[str, ...], datetime], Price | None]


def build_resolver(
    overrides: Mapping[str, Sequence[PriceOverride]],
    max_cached_lookups: int = DEFAULT_MAX_CACHED_LOOKUPS,
) -> Resolve:
    """The price of (project, provider, model names, time): the project's first matching
    override, else genai-prices' price of the first name it knows, else None."""
    table = OverrideTable(overrides)
    find_override = lru_cache(maxsize=max_cached_lookups)(table.find)
    # Matching a model name scans the provider's models (~15 us a hit, more for a miss); the
    # price at a timestamp is then a cheap exact lookup, so the cache key holds no time.
    find_model = lru_cache(maxsize=max_cached_lookups)(partial(_find_model, BUNDLED_PROVIDERS))

    def resolve(
        project_id: str, provider: str | None, models: tuple[str, ...], when: datetime
    ) -> Price | None:
        found = find_override(project_id, provider, models)
        if found is not None:
            entry, model_price = found
            return Price(model_price, SOURCE_OVERRIDE, entry.model, entry.version)
        provider_id = PROVIDER_IDS.get(provider, provider) if provider else None
        for model in models:
            info = find_model(provider_id, model)
            if info is not None:
                return Price(info.get_prices(when), SOURCE_GENAI_PRICES, info.id,
                             GENAI_PRICES_VERSION)  # fmt: skip
        return None

    return resolve


def price_call(resolve: Resolve, project_id: str, llm: LLMCall, when: datetime) -> Cost:
    """The computed cost of one LLM call made at `when` (the reported cost is not kept here)."""
    usage = llm.usage
    if usage.source == "absent" or (usage.input_tokens is None and usage.output_tokens is None):
        return Cost()
    models = tuple(dict.fromkeys(m for m in (llm.response_model, llm.request_model) if m))
    price = resolve(project_id, llm.provider, models, when) if models else None
    if price is None:
        return Cost(price_version=GENAI_PRICES_VERSION)
    try:
        return _compute(price, usage)
    except ValueError:  # genai-prices rejects inconsistent counts, e.g. cache reads > input
        return Cost(price_model=price.model, price_version=price.version)


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


def _compute(price: Price, usage: Usage) -> Cost:
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


def _problems(entry: PriceOverride) -> list[str]:
    problems: list[str] = []
    if not entry.model:
        problems.append("model must be a non-empty string")
    if entry.match not in MATCH_KINDS:
        problems.append(f"match must be one of {', '.join(MATCH_KINDS)}, got {entry.match!r}")
    elif entry.match == "regex":
        try:
            re.compile(entry.model)
        except re.error as exc:
            problems.append(f"model is not a valid regular expression: {exc}")
    if not entry.version:
        problems.append("version must be a non-empty string")
    if entry.provider is not None and not entry.provider:
        problems.append("provider must be a non-empty string when set")
    prices = {
        "input_usd_per_million_tokens": entry.input_usd_per_million_tokens,
        "output_usd_per_million_tokens": entry.output_usd_per_million_tokens,
        "cache_read_usd_per_million_tokens": entry.cache_read_usd_per_million_tokens,
        "cache_write_usd_per_million_tokens": entry.cache_write_usd_per_million_tokens,
    }
    for key, price in prices.items():
        if price is None and key.startswith("cache_"):
            continue
        if not isinstance(price, Decimal) or not price.is_finite() or price < 0:
            problems.append(f"{key} must be a finite non-negative Decimal, got {price!r}")
    return problems


def _matcher(entry: PriceOverride) -> Callable[[str], bool]:
    target = entry.model.lower()
    if entry.match == "regex":
        pattern = re.compile(entry.model, re.IGNORECASE)
        return lambda model: pattern.fullmatch(model) is not None
    if entry.match == "prefix":
        return lambda model: model.lower().startswith(target)
    return lambda model: model.lower() == target
