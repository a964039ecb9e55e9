"""normalize over the real LLM corpus (ground truth in *.expected.json); the processor contract."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from services.collector.processors.conventions.finish_reasons import normalize_finish_reason
from services.collector.processors.conventions.messages import message_text
from services.collector.processors.normalize import NormalizeConfig, build
from shared.otlp.traces import decode_export_request
from shared.span import LLMCall, Span

CORPUS = Path(__file__).parents[3] / "test-data" / "llm-corpus"
CASES = sorted(CORPUS.glob("*/*.expected.json"))
# The official OTel instrumentation of this corpus sets no streaming signal at all.
NO_STREAMING_SIGNAL = {"otel-genai-v2", "otel-genai-v2-latest"}
TOKEN_FIELDS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cached_input_tokens": "cache_read_tokens",
    "cache_write_tokens": "cache_write_tokens",
    "reasoning_tokens": "reasoning_tokens",
}


def load_spans(expected_path: Path) -> list[Span]:
    """Decode a corpus case's OTLP protobuf export with the collector's own decoder."""
    pb_path = expected_path.with_name(expected_path.name.replace(".expected.json", ".otlp.pb"))
    request = ExportTraceServiceRequest.FromString(pb_path.read_bytes())
    decoded = decode_export_request(request, "project-1", 1)
    assert decoded.rejected == 0
    return decoded.spans


def counted_calls(spans: list[Span]) -> list[LLMCall]:
    """The counted calls of a normalised batch, in start order."""
    ordered = sorted(spans, key=lambda s: (s.start_time_unix_nano, s.span_id))
    return [s.llm for s in ordered if s.llm is not None and s.llm.is_counted]


def emitted_sources(field: Any) -> bool:
    """Whether the library put a field on the call span (plainly, non-canonically or in JSON)."""
    if not isinstance(field, dict):
        return False
    keys = ("on_call_span", "on_call_span_noncanonical", "nested_in_json_on_call_span")
    return any(field.get(key) for key in keys)


def all_text(messages: list[dict[str, Any]] | None, extra: list[Any] | None = None) -> str:
    """Every text of the messages (and extra parts), to look snippets up in."""
    texts = [message_text(m) for m in messages or []]
    texts.extend(str(part.get("content", "")) for part in extra or [])
    return "\n".join(texts)


@pytest.fixture(scope="module")
def normalize() -> Any:
    return build(NormalizeConfig())


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name.split('.')[0]}")
def test_corpus_case(case: Path, normalize: Any) -> None:
    truth = json.loads(case.read_text())
    expected = truth["expected"]
    calls = counted_calls(normalize(load_spans(case)))
    assert len(calls) == expected["llm_call_count"]
    for call, want, emitted in zip(
        calls, expected["calls"], truth["emitted"]["calls"], strict=True
    ):
        check_call(call, want, emitted["fields"], truth["library"])


def check_call(call: LLMCall, want: dict[str, Any], emitted: dict[str, Any], library: str) -> None:
    """Compare one normalised call with the ground truth, field by field."""
    assert call.provider == want["provider"]
    assert call.operation == want["operation"]
    assert call.request_model == want["request_model"]
    assert call.response_model == want["response_model"]
    if emitted_sources(emitted.get("response_id")):
        assert call.response_id == want["response_id"]
    assert call.response_id in (None, want["response_id"])
    check_streaming(call, want["streaming"], library)
    check_usage(call, want, emitted)
    check_finish_reason(call, want["finish_reason"], emitted.get("finish_reason"))
    check_error(call, want, emitted.get("error", {}))
    for name in ("session_id", "user_id"):
        assert getattr(call, name) == want[name]
    check_content(call, want, emitted)


def check_streaming(call: LLMCall, streaming: bool, library: str) -> None:
    if streaming and library in NO_STREAMING_SIGNAL:
        assert call.is_streaming in (True, None)
    elif streaming:
        assert call.is_streaming is True
    else:
        assert call.is_streaming is not True


def check_usage(call: LLMCall, want: dict[str, Any], emitted: dict[str, Any]) -> None:
    usage = call.usage
    for truth_name, usage_name in TOKEN_FIELDS.items():
        value = getattr(usage, usage_name)
        if emitted_sources(emitted.get(truth_name)):
            assert value == want[truth_name], truth_name
        else:
            # Not emitted: nothing may be invented (another processor estimates later); a
            # zero the library reported where the truth is "not applicable" is kept as sent.
            assert value in (None, 0 if want[truth_name] is None else None, want[truth_name])
    if emitted_sources(emitted.get("input_tokens")):
        assert usage.input_tokens_provider_raw == want["input_tokens_provider_raw"]
        assert usage.total_tokens == want["total_tokens"]
        assert usage.source == "reported"
    else:
        assert usage.input_tokens is None
    if want["input_tokens"] is None and want["output_tokens"] is None:
        assert usage.source == "absent"


def check_finish_reason(call: LLMCall, reason: str | None, emitted: Any) -> None:
    if reason is None:
        assert call.finish_reasons_raw == ()
        return
    if not isinstance(emitted, dict) or not emitted_sources(emitted):
        return
    is_canonical = not emitted.get("on_call_span_noncanonical")
    if emitted.get("on_call_span") or (is_canonical and emitted.get("nested_in_json_on_call_span")):
        assert call.finish_reasons_raw[:1] == (reason,)
    # Non-canonical spellings (`stop` for `end_turn`, `tool-calls`) agree once normalised.
    assert call.finish_reasons[:1] == (normalize_finish_reason(reason),)


def check_error(call: LLMCall, want: dict[str, Any], emitted: dict[str, Any]) -> None:
    assert call.is_error is want["is_error"]
    if not want["is_error"]:
        assert call.error_type is None and call.error_message is None
        return
    assert call.error_type
    snippet = want["error"]["message_contains"]
    if emitted_sources(emitted.get(snippet)):
        assert snippet in (call.error_message or "")


def check_content(call: LLMCall, want: dict[str, Any], emitted: dict[str, Any]) -> None:
    inputs = all_text(call.input_messages, call.system_instructions)
    for snippet in want["input_contains"]:
        if emitted_sources(emitted.get("input_contains", {}).get(snippet)):
            assert snippet in inputs
    outputs = all_text(call.output_messages)
    for snippet in want["output_contains"]:
        if emitted_sources(emitted.get("output_contains", {}).get(snippet)):
            assert snippet in outputs
    calls = [{k: c.get(k) for k in ("id", "name", "arguments")} for c in call.tool_calls or []]
    if not want["tool_calls"]:
        assert calls == []
    elif all(emitted_sources(source) for source in emitted.get("tool_calls", {}).values()):
        assert calls == want["tool_calls"]


def corpus_spans() -> list[Span]:
    """Every span of the corpus: distinct traces, one file after another."""
    return [span for case in CASES for span in load_spans(case)]


def test_builds_from_defaults_and_passes_empty_batches() -> None:
    assert build(NormalizeConfig())([]) == []


def test_leaves_its_input_unchanged(normalize: Any) -> None:
    spans = corpus_spans()
    before = copy.deepcopy(spans)
    result = normalize(spans)
    assert spans == before
    assert all(span.llm is None for span in spans)
    assert [s.span_id for s in result] == [s.span_id for s in spans]


def test_result_is_independent_of_how_traces_are_batched(normalize: Any) -> None:
    spans = corpus_spans()
    whole = normalize(spans)
    by_trace: dict[str, list[Span]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    one_batch_per_trace = [out for batch in by_trace.values() for out in normalize(batch)]
    reversed_batch = normalize(list(reversed(spans)))
    key = {(s.trace_id, s.span_id): s for s in whole}
    for other in (one_batch_per_trace, reversed_batch):
        assert len(other) == len(whole)
        for span in other:
            assert span == key[(span.trace_id, span.span_id)]


def test_content_can_be_left_out() -> None:
    spans = corpus_spans()
    calls = [s.llm for s in build(NormalizeConfig(capture_content=False))(spans) if s.llm]
    assert calls and all(c.input_messages is None and c.output_messages is None for c in calls)


def test_identity_stays_on_its_own_span_when_propagation_is_off() -> None:
    case = CORPUS / "openinference" / "anthropic_messages.expected.json"
    spans = build(NormalizeConfig(propagate_trace_identity=False))(load_spans(case))
    sdk = next(s for s in spans if s.llm and s.llm.convention == "anthropic_sdk")
    assert sdk.llm is not None and sdk.llm.session_id is None
    inherited = build(NormalizeConfig())(load_spans(case))
    sdk_inherited = next(s for s in inherited if s.span_id == sdk.span_id)
    assert sdk_inherited.llm is not None
    assert sdk_inherited.llm.session_id == "sess-7f3a9c21-corpus"
    assert "(span " in sdk_inherited.llm.field_sources["session_id"]


def test_duplicate_sdk_span_is_recorded_but_not_counted(normalize: Any) -> None:
    for library in ("openinference", "traceloop"):
        spans = normalize(load_spans(CORPUS / library / "anthropic_messages.expected.json"))
        sdk = [s.llm for s in spans if s.llm and s.llm.convention == "anthropic_sdk"]
        assert len(sdk) == 1 and sdk[0] is not None
        assert sdk[0].is_counted is False
        assert sdk[0].field_sources["is_counted"].startswith("duplicate of span ")
        assert sdk[0].usage.input_tokens == 2265


def test_wrapper_spans_keep_usage_but_are_not_counted(normalize: Any) -> None:
    spans = normalize(load_spans(CORPUS / "vercel-ai" / "tool_call.expected.json"))
    outer = next(s.llm for s in spans if s.name == "ai.generateText")
    assert outer is not None
    assert (outer.span_type, outer.is_counted, outer.usage.input_tokens) == ("agent", False, 630)
    tool = next(s.llm for s in spans if s.name == "ai.toolCall")
    assert tool is not None and tool.span_type == "tool" and tool.tool_calls
    assert tool.tool_calls[0]["result"]["temperature_c"] == 18


def test_field_sources_name_the_attributes(normalize: Any) -> None:
    spans = normalize(load_spans(CORPUS / "vercel-ai" / "anthropic_messages.expected.json"))
    call = counted_calls(spans)[0]
    assert call.field_sources["input_tokens"] == "ai.usage.inputTokens"
    assert call.field_sources["input_tokens_provider_raw"].endswith("-cache_read-cache_write")
    assert call.field_sources["session_id"] == "ai.telemetry.metadata.sessionId"
    assert replace(call, field_sources={}).convention == "vercel_ai"
