"""price: costs equal genai-prices' own for the same usage; overrides, history, unpriced calls."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import genai_prices
import pytest
from genai_prices import Usage as GenaiUsage
from genai_prices import calc_price, extract_usage

from services.collector.processors.price import PriceConfig, build
from services.collector.processors.price_override import PriceOverride
from shared.span import Cost, LLMCall, Span, Usage

CORPUS = Path(__file__).resolve().parents[3] / "test-data" / "llm-corpus"
WHEN = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
MICRO = Decimal("0.000001")


def _nanos(when: datetime) -> int:
    return int(when.timestamp()) * 1_000_000_000


def _span(llm: LLMCall | None, project_id: str = "proj-a", when: datetime = WHEN) -> Span:
    start = _nanos(when)
    return Span(
        project_id=project_id,
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        parent_span_id=None,
        name="chat",
        kind=3,
        start_time_unix_nano=start,
        end_time_unix_nano=start + 1_000_000_000,
        llm=llm,
    )


def _call(usage: Usage, model: str = "gpt-4o-mini-2024-07-18", **fields: Any) -> LLMCall:
    values: dict[str, Any] = {"provider": "openai", "request_model": model, "response_model": model}
    values.update(fields)
    return LLMCall(convention="otel_genai", span_type="llm", usage=usage, **values)


def _price_one(span: Span, config: PriceConfig | None = None) -> Cost:
    [priced] = build(config or PriceConfig())([span])
    assert priced.llm is not None
    return priced.llm.cost


# Corpus usages (test-data/llm-corpus/README.md). Ours follows OTel: input includes cache.
GPT_USAGE = Usage(
    input_tokens=431,
    output_tokens=97,
    cache_read_tokens=128,
    reasoning_tokens=36,
    source="reported",
)
CLAUDE_USAGE = Usage(
    input_tokens=473 + 1536 + 256,
    output_tokens=83,
    cache_read_tokens=1536,
    cache_write_tokens=256,
    input_tokens_provider_raw=473,
    source="reported",
)


def test_openai_call_costs_what_genai_prices_computes() -> None:
    cost = _price_one(_span(_call(GPT_USAGE)))
    # genai-prices' input_tokens is the total including cached tokens, as OTel's is.
    expected = calc_price(
        GenaiUsage(
            input_tokens=431, cache_read_tokens=128, output_tokens=97, output_reasoning_tokens=36
        ),
        "gpt-4o-mini-2024-07-18",
        provider_id="openai",
        genai_request_timestamp=WHEN,
    )
    assert cost.total_usd == expected.total_price
    assert cost.input_usd == expected.input_price
    assert cost.output_usd == expected.output_price
    assert cost.total_usd is not None and cost.total_usd.quantize(MICRO) == Decimal("0.000113")
    # The cached share, at genai-prices' cache-read rate for the model.
    assert cost.cache_read_usd == 128 * expected.model_price.cache_read_mtok / 1_000_000
    assert cost.cache_write_usd is None
    assert (cost.price_source, cost.price_model) == ("genai-prices", "gpt-4o-mini")
    assert cost.price_version == genai_prices.__version__ == "0.2.3"
    # The same through genai-prices' own extractor for OpenAI's raw response body.
    raw = {
        "model": "gpt-4o-mini-2024-07-18",
        "usage": {
            "prompt_tokens": 431,
            "completion_tokens": 97,
            "prompt_tokens_details": {"cached_tokens": 128},
            "completion_tokens_details": {"reasoning_tokens": 36},
        },
    }
    extracted = extract_usage(raw, provider_id="openai", api_flavor="chat")
    assert cost.total_usd == extracted.calc_price(genai_request_timestamp=WHEN).total_price


def test_anthropic_cache_tokens_are_priced_once() -> None:
    cost = _price_one(
        _span(_call(CLAUDE_USAGE, "claude-sonnet-4-5-20250929", provider="anthropic"))
    )
    expected = calc_price(
        GenaiUsage(
            input_tokens=473 + 1536 + 256,
            cache_read_tokens=1536,
            cache_write_tokens=256,
            output_tokens=83,
        ),
        "claude-sonnet-4-5-20250929",
        provider_id="anthropic",
        genai_request_timestamp=WHEN,
    )
    assert (cost.total_usd, cost.input_usd, cost.output_usd) == (
        expected.total_price,
        expected.input_price,
        expected.output_price,
    )
    # Anthropic's raw response, where input_tokens excludes the cache, through genai-prices.
    raw = {
        "model": "claude-sonnet-4-5-20250929",
        "usage": {
            "input_tokens": 473,
            "cache_creation_input_tokens": 256,
            "cache_read_input_tokens": 1536,
            "output_tokens": 83,
        },
    }
    extracted = extract_usage(raw, provider_id="anthropic")
    assert cost.total_usd == extracted.calc_price(genai_request_timestamp=WHEN).total_price
    # $3 / $0.30 / $3.75 per million for uncached input, cache reads and cache writes.
    assert cost.input_usd == Decimal("0.001419") + Decimal("0.0004608") + Decimal("0.00096")
    assert cost.cache_read_usd == Decimal("0.0004608")
    assert cost.cache_write_usd == Decimal("0.00096")
    assert cost.output_usd == Decimal("0.001245")


def test_reasoning_tokens_are_part_of_output_priced_at_their_own_rate_if_any() -> None:
    with_reasoning = Usage(
        input_tokens=100, output_tokens=1000, reasoning_tokens=600, source="reported"
    )
    without = replace(with_reasoning, reasoning_tokens=None)
    # Most models have no reasoning rate: reasoning tokens cost what output tokens cost.
    gpt = [_price_one(_span(_call(u, "o3"))) for u in (with_reasoning, without)]
    assert gpt[0].output_usd == gpt[1].output_usd == Decimal(1000) * 8 / 1_000_000
    # Perplexity's deep research bills reasoning at $3 and the rest of the output at $8.
    sonar = _call(with_reasoning, "sonar-deep-research", provider="perplexity")
    assert _price_one(_span(sonar)).output_usd == (Decimal(400) * 8 + Decimal(600) * 3) / 1_000_000


def _corpus_calls() -> list[tuple[str, dict[str, Any]]]:
    calls = []
    for path in sorted(CORPUS.glob("*/*.expected.json")):
        for call in json.loads(path.read_text())["expected"]["calls"]:
            if call["input_tokens"] is not None:
                calls.append((f"{path.parent.name}/{path.stem}", call))
    return calls


@pytest.mark.parametrize(
    ("name", "call"), _corpus_calls(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_corpus_calls_cost_what_genai_prices_computes(name: str, call: dict[str, Any]) -> None:
    usage = Usage(
        input_tokens=call["input_tokens"],
        output_tokens=call["output_tokens"],
        cache_read_tokens=call["cached_input_tokens"],
        cache_write_tokens=call["cache_write_tokens"],
        reasoning_tokens=call["reasoning_tokens"],
        source="reported",
    )
    llm = _call(
        usage,
        call["response_model"],
        provider=call["provider"],
        request_model=call["request_model"],
    )
    cost = _price_one(_span(llm))
    counts = {
        "input_tokens": call["input_tokens"],
        "cache_read_tokens": call["cached_input_tokens"],
        "cache_write_tokens": call["cache_write_tokens"],
        "output_tokens": call["output_tokens"],
        "output_reasoning_tokens": call["reasoning_tokens"],
    }
    expected = calc_price(
        GenaiUsage(**{k: v for k, v in counts.items() if v is not None}),
        call["response_model"],
        provider_id=call["provider"],
        genai_request_timestamp=WHEN,
    )
    assert cost.total_usd is not None
    assert cost.total_usd.quantize(MICRO) == expected.total_price.quantize(MICRO)
    assert cost.total_usd == expected.total_price


def test_unknown_model_is_unpriced_never_zero() -> None:
    cost = _price_one(_span(_call(GPT_USAGE, "acme-private-llm-7b")))
    assert cost == Cost(price_source="unpriced", price_version="0.2.3")
    assert cost.total_usd is None


def test_unknown_provider_is_not_priced_as_another_providers_model() -> None:
    cost = _price_one(_span(_call(GPT_USAGE, "llama3.1:8b", provider="ollama")))
    assert cost.total_usd is None and cost.price_source == "unpriced"


def test_call_without_usage_keeps_the_default_cost() -> None:
    reported = Cost(reported_usd=Decimal("0.0042"))
    span = _span(_call(Usage(), cost=reported))
    assert _price_one(span) == reported
    assert build(PriceConfig())([span])[0] is span


def test_inconsistent_usage_is_unpriced_with_the_model_named() -> None:
    usage = Usage(input_tokens=10, cache_read_tokens=20, output_tokens=1, source="reported")
    cost = _price_one(_span(_call(usage)))
    assert (cost.total_usd, cost.price_source) == (None, "unpriced")
    assert (cost.price_model, cost.price_version) == ("gpt-4o-mini", "0.2.3")


def test_reported_cost_is_kept_beside_the_computed_one() -> None:
    llm = _call(GPT_USAGE, cost=Cost(reported_usd=Decimal("0.000125")))
    cost = _price_one(_span(llm))
    assert cost.reported_usd == Decimal("0.000125")
    assert cost.total_usd is not None and cost.total_usd != cost.reported_usd


def test_estimated_usage_is_priced() -> None:
    usage = Usage(input_tokens=124, output_tokens=2, total_tokens=126, source="estimated")
    cost = _price_one(_span(_call(usage)))
    expected = calc_price(
        GenaiUsage(input_tokens=124, output_tokens=2), "gpt-4o-mini", genai_request_timestamp=WHEN
    )
    assert cost.total_usd == expected.total_price


def test_historic_price_applies_at_the_span_start() -> None:
    # genai-prices records o3's price cut on 2025-06-10 ($10/$40 -> $2/$8 per million).
    usage = Usage(input_tokens=1000, output_tokens=500, source="reported")
    before = datetime(2025, 6, 1, tzinfo=UTC)
    after = datetime(2025, 7, 1, tzinfo=UTC)
    spans = [_span(_call(usage, "o3"), when=before), _span(_call(usage, "o3"), when=after)]
    costs = [span.llm.cost for span in build(PriceConfig())(spans) if span.llm is not None]
    for cost, when in zip(costs, (before, after), strict=True):
        expected = calc_price(
            GenaiUsage(input_tokens=1000, output_tokens=500),
            "o3",
            provider_id="openai",
            genai_request_timestamp=when,
        )
        assert cost.total_usd == expected.total_price
    assert costs[0].total_usd == Decimal("0.03") and costs[1].total_usd == Decimal("0.006")


def test_tiered_price_uses_the_whole_input_for_cache_parts() -> None:
    # Above 200k input tokens Claude Sonnet 4.5 bills every token at its long-context rates.
    usage = Usage(
        input_tokens=250_000, cache_read_tokens=200_000, output_tokens=10, source="reported"
    )
    cost = _price_one(_span(_call(usage, "claude-sonnet-4-5", provider="anthropic")))
    expected = calc_price(
        GenaiUsage(input_tokens=250_000, cache_read_tokens=200_000, output_tokens=10),
        "claude-sonnet-4-5",
        provider_id="anthropic",
        genai_request_timestamp=WHEN,
    )
    assert cost.total_usd == expected.total_price
    uncached = calc_price(
        GenaiUsage(input_tokens=250_000),
        "claude-sonnet-4-5",
        provider_id="anthropic",
        genai_request_timestamp=WHEN,
    )
    per_input_token = uncached.input_price / 250_000  # the long-context input rate
    assert cost.input_usd == cost.cache_read_usd + 50_000 * per_input_token


@pytest.mark.parametrize(
    ("provider", "model", "genai_provider"),
    [
        ("azure.ai.openai", "gpt-4o-2024-08-06", "azure"),
        ("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws"),
        ("gcp.vertex_ai", "claude-sonnet-4-5@20250929", "google"),
        ("gcp.gemini", "gemini-2.5-flash", "google"),
        ("x_ai", "grok-3", "x-ai"),
        ("mistral_ai", "mistral-large-latest", "mistral"),
        (None, "gpt-4o-mini", None),
    ],
)
def test_otel_provider_names_map_to_genai_prices_providers(
    provider: str | None, model: str, genai_provider: str | None
) -> None:
    usage = Usage(input_tokens=1000, output_tokens=100, source="reported")
    cost = _price_one(_span(_call(usage, model, provider=provider)))
    expected = calc_price(
        GenaiUsage(input_tokens=1000, output_tokens=100),
        model,
        provider_id=genai_provider,
        genai_request_timestamp=WHEN,
    )
    assert cost.total_usd == expected.total_price
    assert cost.price_model == expected.model.id


OVERRIDE = {
    "model": "ft:gpt-4o-mini-2024-07-18:acme::b7x",
    "input_usd_per_million_tokens": "0.30",
    "output_usd_per_million_tokens": "1.20",
    "cache_read_usd_per_million_tokens": "0.15",
    "version": "acme-2025-09",
}


def test_project_override_takes_precedence_over_genai_prices() -> None:
    config = PriceConfig.from_mapping({"overrides": {"proj-a": [OVERRIDE]}})
    llm = _call(GPT_USAGE, "ft:gpt-4o-mini-2024-07-18:acme::b7x")
    cost = _price_one(_span(llm), config)
    uncached = Decimal(431 - 128) * Decimal("0.30") / 1_000_000
    cached = Decimal(128) * Decimal("0.15") / 1_000_000
    output = Decimal(97) * Decimal("1.20") / 1_000_000
    assert cost.input_usd == uncached + cached
    assert cost.cache_read_usd == cached
    assert cost.output_usd == output
    assert cost.total_usd == uncached + cached + output
    assert (cost.price_source, cost.price_model, cost.price_version) == (
        "project-override",
        "ft:gpt-4o-mini-2024-07-18:acme::b7x",
        "acme-2025-09",
    )
    # Another project still gets genai-prices' price for the same fine-tuned model.
    other = _price_one(_span(llm, project_id="proj-b"), config)
    assert other.price_source == "genai-prices" and other.price_model == "ft:gpt-4o-mini"


def test_override_matching_by_prefix_regex_and_provider() -> None:
    entries = [
        {**OVERRIDE, "model": "my-deploy-", "match": "prefix", "provider": "azure.ai.openai"},
        {**OVERRIDE, "model": r"acme-\d+b", "match": "regex", "version": "v-regex"},
    ]
    config = PriceConfig.from_mapping({"overrides": {"proj-a": entries}})
    azure = _call(GPT_USAGE, "gpt-4o", provider="azure.ai.openai", request_model="MY-DEPLOY-eu")
    assert _price_one(_span(azure), config).price_source == "project-override"
    # The prefix entry is for Azure only; OpenAI's own gpt-4o keeps genai-prices' price.
    openai = _call(GPT_USAGE, "gpt-4o", request_model="my-deploy-eu")
    assert _price_one(_span(openai), config).price_source == "genai-prices"
    assert _price_one(_span(_call(GPT_USAGE, "acme-70b")), config).price_version == "v-regex"
    # A regex matches the whole name only.
    assert _price_one(_span(_call(GPT_USAGE, "acme-70b-chat")), config).total_usd is None


def test_override_without_cache_price_bills_cache_at_input_rate() -> None:
    entry = {key: value for key, value in OVERRIDE.items() if not key.startswith("cache_")}
    config = PriceConfig.from_mapping({"overrides": {"proj-a": [entry]}})
    cost = _price_one(_span(_call(GPT_USAGE, OVERRIDE["model"])), config)
    assert cost.input_usd == Decimal(431) * Decimal("0.30") / 1_000_000
    assert cost.cache_read_usd == Decimal(128) * Decimal("0.30") / 1_000_000


def test_rebuilding_with_new_overrides_changes_prices() -> None:
    config = PriceConfig()
    span = _span(_call(GPT_USAGE))
    assert _price_one(span, config).price_source == "genai-prices"
    entry = PriceOverride(
        model="gpt-4o-mini-2024-07-18",
        input_usd_per_million_tokens=Decimal("1"),
        output_usd_per_million_tokens=Decimal("2"),
        version="db-row-17",
    )
    cost = _price_one(span, replace(config, overrides={"proj-a": (entry,)}))
    assert (cost.price_source, cost.price_version) == ("project-override", "db-row-17")


def test_spans_that_are_not_counted_calls_pass_through() -> None:
    wrapper = _span(_call(GPT_USAGE, is_counted=False))
    plain = _span(None)
    assert build(PriceConfig())([wrapper, plain]) == [wrapper, plain]


def test_config_reports_every_bad_key_at_once() -> None:
    bad = {
        "overrides": {
            "proj-a": [
                {**OVERRIDE, "input_usd_per_million_tokens": "-1", "colour": "red"},
                {key: value for key, value in OVERRIDE.items() if key != "version"},
                {**OVERRIDE, "model": "(", "match": "regex"},
                {**OVERRIDE, "match": "glob"},
            ]
        },
        "max_cached_lookups": 0,
        "typo": True,
    }
    with pytest.raises(ValueError) as caught:
        PriceConfig.from_mapping(bad)
    message = str(caught.value)
    for fragment in (
        "overrides['proj-a'][0].input_usd_per_million_tokens",
        "overrides['proj-a'][0].colour: unknown key",
        "overrides['proj-a'][1].version: required",
        "overrides['proj-a'][2]: model is not a valid regular expression",
        "overrides['proj-a'][3]: match must be one of exact, prefix, regex",
        "max_cached_lookups",
        "typo: unknown key",
    ):
        assert fragment in message


def test_contract_empty_unchanged_input_and_split_independence() -> None:
    price = build(PriceConfig.from_mapping({}))
    assert price([]) == []
    spans = [
        _span(_call(GPT_USAGE)),
        _span(_call(CLAUDE_USAGE, "claude-sonnet-4-5", provider="anthropic")),
        _span(_call(GPT_USAGE, "acme-private")),
        _span(_call(Usage())),
        _span(None),
    ]
    before = copy.deepcopy(spans)
    whole = price(spans)
    assert spans == before
    assert whole == price(spans[:2]) + price(spans[2:])
    assert whole == build(PriceConfig())(list(reversed(spans)))[::-1]
