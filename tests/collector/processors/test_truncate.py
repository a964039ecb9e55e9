"""truncate: off by default; every cut within its limit, marked in the value and on the span."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from services.collector.processors.normalize import NormalizeConfig
from services.collector.processors.normalize import build as build_normalize
from services.collector.processors.truncate import (
    MIN_LIMIT_CHARS,
    TRUNCATED_ATTRIBUTE,
    TruncateConfig,
    build,
    count_truncated,
    cut_text,
)
from shared.span import LLMCall, Span, SpanEvent
from tests.collector.corpus import CORPUS, load_spans

MARKER = re.compile(r"…\[truncated (\d+) chars\]$")
LONG = "x" * 1000
NORMALIZE = build_normalize(NormalizeConfig())


def _span(
    attributes: dict[str, Any] | None = None,
    llm: LLMCall | None = None,
    events: tuple[SpanEvent, ...] = (),
    span_id: str = "b7ad6b7169203331",
) -> Span:
    return Span(
        project_id="proj-a",
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id=span_id,
        parent_span_id=None,
        name="chat",
        kind=3,
        start_time_unix_nano=1,
        end_time_unix_nano=2,
        attributes=attributes or {},
        events=events,
        llm=llm,
    )


def _call(**fields: Any) -> LLMCall:
    return LLMCall(convention="otel_genai", span_type="llm", **fields)


def _truncate(spans: list[Span], **limits: int) -> list[Span]:
    return build(TruncateConfig.from_mapping(limits))(spans)


def _assert_cut(value: str, original: str, limit: int) -> None:
    match = MARKER.search(value)
    assert match is not None, value
    assert len(value) <= limit
    kept = value[: match.start()]
    assert original.startswith(kept)
    assert int(match.group(1)) == len(original) - len(kept)


@pytest.mark.parametrize("length", [65, 100, 999, 1000, 10_001, 1_000_000])
@pytest.mark.parametrize("limit", [64, 65, 100, 1000])
def test_cut_text_fits_the_limit_with_an_exact_count(length: int, limit: int) -> None:
    original = "é" * length
    if length <= limit:
        return
    _assert_cut(cut_text(original, limit), original, limit)


def test_default_config_keeps_everything() -> None:
    spans = [_span({"gen_ai.prompt": LONG * 100}, _call(input_messages=[_text("user", LONG)]))]
    assert build(TruncateConfig.from_mapping({}))(spans) == spans


def _text(role: str, content: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": content}]}


def test_message_parts_are_cut_and_listed() -> None:
    tool_call = {"type": "tool_call", "id": "call_" + "1" * 200, "name": "n" * 200, "arguments": {
        "query": LONG, "limit": 3}}  # fmt: skip
    llm = _call(
        input_messages=[_text("user", "short"), {"role": "assistant", "parts": [tool_call]}],
        output_messages=[{**_text("assistant", LONG), "finish_reason": "stop"}],
        system_instructions=[{"type": "text", "content": LONG}],
        tool_calls=[{"id": "c1", "name": "search", "arguments": "{}", "result": LONG}],
    )
    [cut] = _truncate([_span(llm=llm)], max_message_part_chars=100)
    assert cut.llm is not None
    assert cut.attributes[TRUNCATED_ATTRIBUTE] == [
        "llm.input_messages[1].parts[0].arguments.query",
        "llm.output_messages[0].parts[0].content",
        "llm.system_instructions[0].content",
        "llm.tool_calls[0].result",
    ]
    assert cut.llm.input_messages is not None and cut.llm.output_messages is not None
    assert cut.llm.input_messages[0] == _text("user", "short")
    part = cut.llm.input_messages[1]["parts"][0]
    # Identity and structure are never cut.
    assert (part["id"], part["name"], part["arguments"]["limit"]) == (
        tool_call["id"], tool_call["name"], 3)  # fmt: skip
    _assert_cut(part["arguments"]["query"], LONG, 100)
    _assert_cut(cut.llm.output_messages[0]["parts"][0]["content"], LONG, 100)
    assert cut.llm.output_messages[0]["finish_reason"] == "stop"


def test_attribute_strings_are_cut_in_spans_and_events_nested_included() -> None:
    event = SpanEvent(1, "gen_ai.user.message", {"content": LONG, "role": "user"})
    span = _span(
        {"gen_ai.prompt": LONG, "tags": ["a", LONG], "meta": {"deep": LONG}, "n": 7, "b": b"x"},
        events=(event,),
    )
    [cut] = _truncate([span], max_attribute_chars=128)
    assert cut.attributes[TRUNCATED_ATTRIBUTE] == [
        "attributes.gen_ai.prompt",
        "attributes.tags[1]",
        "attributes.meta.deep",
        "events[0].attributes.content",
    ]
    _assert_cut(cut.attributes["gen_ai.prompt"], LONG, 128)
    _assert_cut(cut.attributes["tags"][1], LONG, 128)
    _assert_cut(cut.attributes["meta"]["deep"], LONG, 128)
    _assert_cut(cut.events[0].attributes["content"], LONG, 128)
    assert (cut.attributes["tags"][0], cut.attributes["n"], cut.attributes["b"]) == ("a", 7, b"x")
    assert cut.events[0].attributes["role"] == "user"


def test_span_total_cuts_the_longest_values_first() -> None:
    attributes = {"big": "b" * 5000, "medium": "m" * 800, "small": "s" * 100, "id": "i" * 20}
    llm = _call(input_messages=[_text("user", "u" * 3000)])
    [cut] = _truncate([_span(attributes, llm)], max_span_chars=2000)
    assert cut.llm is not None and cut.llm.input_messages is not None
    content = cut.llm.input_messages[0]["parts"][0]["content"]
    values = [cut.attributes[key] for key in ("big", "medium", "small", "id")] + [content]
    assert sum(len(v) for v in values) <= 2000
    assert cut.attributes["small"] == "s" * 100 and cut.attributes["id"] == "i" * 20
    assert sorted(cut.attributes[TRUNCATED_ATTRIBUTE]) == [
        "attributes.big",
        "attributes.medium",
        "llm.input_messages[0].parts[0].content",
    ]
    # One common level for the cut values: they end up the same length (marker digits aside).
    assert max(len(v) for v in values) - min(len(v) for v in [*values[:2], content]) <= 1


def test_span_total_with_per_value_limits_applies_the_tighter() -> None:
    span = _span({"a": "a" * 400, "b": "b" * 3000})
    [cut] = _truncate([span], max_attribute_chars=300, max_span_chars=1000)
    assert len(cut.attributes["a"]) <= 300 and len(cut.attributes["b"]) <= 700
    assert len(cut.attributes["a"]) + len(cut.attributes["b"]) <= 1000


def test_truncating_twice_changes_nothing_and_records_are_kept() -> None:
    span = _span({"gen_ai.prompt": LONG, TRUNCATED_ATTRIBUTE: ["upstream.field"]})
    once = _truncate([span], max_attribute_chars=64, max_span_chars=64)
    assert _truncate(once, max_attribute_chars=64, max_span_chars=64) == once
    assert once[0].attributes[TRUNCATED_ATTRIBUTE] == ["upstream.field", "attributes.gen_ai.prompt"]
    assert count_truncated(once) == 2


def test_own_attributes_are_never_cut() -> None:
    span = _span({"llmobs.note": LONG})
    assert _truncate([span], max_attribute_chars=64) == [span]


def _marked(value: Any) -> int:
    """How many strings in a decoded value end with a truncation marker."""
    if isinstance(value, str):
        return 1 if MARKER.search(value) else 0
    if isinstance(value, dict):
        return sum(_marked(item) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(_marked(item) for item in value)
    return 0


@pytest.mark.parametrize(
    "scenario",
    ["otel-genai-v2-latest/chat", "openinference/tool_call", "vercel-ai/anthropic_messages",
     "traceloop/chat_stream"],
)  # fmt: skip
def test_corpus_content_is_cut_and_every_cut_listed(scenario: str) -> None:
    spans = NORMALIZE(load_spans(CORPUS / f"{scenario}.otlp.pb", "p"))
    cut = _truncate(spans, max_message_part_chars=64, max_attribute_chars=64)
    assert count_truncated(cut) > 0
    for before, after in zip(spans, cut, strict=True):
        listed = after.attributes.get(TRUNCATED_ATTRIBUTE, [])
        llm = after.llm
        messages = [] if llm is None else [llm.input_messages, llm.output_messages,
                                           llm.system_instructions, llm.tool_calls]  # fmt: skip
        marked = _marked(after.attributes) + _marked([e.attributes for e in after.events])
        assert marked + _marked(messages) == len(listed) == len(set(listed))
        for key, value in before.attributes.items():
            if isinstance(value, str) and len(value) > 64:
                _assert_cut(after.attributes[key], value, 64)
                assert f"attributes.{key}" in listed


def test_contract_empty_unchanged_input_and_split_independence() -> None:
    truncate = build(TruncateConfig(100, 100, 300))
    assert truncate([]) == []
    assert build(TruncateConfig())([]) == []
    spans = [
        _span({"a": LONG, "b": "short"}, span_id="01"),
        _span(llm=_call(input_messages=[_text("user", LONG)]), span_id="02"),
        _span({"c": "c" * 250, "d": "d" * 250}, span_id="03"),
        _span(span_id="04"),
        *NORMALIZE(load_spans(CORPUS / "openinference/chat.otlp.pb", "p")),
    ]
    before = copy.deepcopy(spans)
    whole = truncate(spans)
    assert spans == before
    assert whole == truncate(spans[:3]) + truncate(spans[3:])
    assert whole == truncate(list(reversed(spans)))[::-1]


def test_config_errors_name_every_key() -> None:
    with pytest.raises(ValueError) as caught:
        TruncateConfig.from_mapping(
            {"max_message_part_chars": 10, "max_attribute_chars": "big", "max_span": 1}
        )
    message = str(caught.value)
    for fragment in (
        f"max_message_part_chars: expected an integer >= {MIN_LIMIT_CHARS}",
        "max_attribute_chars: expected an integer",
        "max_span: unknown key",
    ):
        assert fragment in message
    assert TruncateConfig.from_mapping({"max_span_chars": None}) == TruncateConfig()
    with pytest.raises(ValueError, match="max_span_chars"):
        TruncateConfig(max_span_chars=10)
