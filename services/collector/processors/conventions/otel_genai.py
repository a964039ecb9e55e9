"""OTel GenAI semantic conventions: current and older attribute names, and content events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.span import Attributes, Span, SpanEvent

from .draft import CallDraft
from .finish_reasons import raw_finish_reasons
from .messages import Message, canonical_message, canonical_messages, canonical_part
from .operations import canonical_operation
from .values import as_str, parse_json

NAME = "otel_genai"

DETAILS_EVENT = "gen_ai.client.inference.operation.details"
_INPUT_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_CHOICE_EVENT = "gen_ai.choice"

_TOKEN_KEYS = {
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
    "total_tokens": ("gen_ai.usage.total_tokens",),
    "cache_read_tokens": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.prompt_tokens_details.cached_tokens",
        "gen_ai.usage.details.cache_read_tokens",
    ),
    "cache_write_tokens": (
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
        "gen_ai.usage.prompt_tokens_details.cache_creation_tokens",
        "gen_ai.usage.details.cache_write_tokens",
    ),
    "reasoning_tokens": (
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        "gen_ai.usage.completion_tokens_details.reasoning_tokens",
        "gen_ai.usage.details.reasoning_tokens",
    ),
}
_TTFT_KEYS = (
    "gen_ai.response.time_to_first_chunk",
    "gen_ai.client.operation.time_to_first_chunk",
    "gen_ai.server.time_to_first_token",
    "gen_ai.latency.time_to_first_token",
)


def matches(span: Span) -> bool:
    """Whether the span carries any `gen_ai.*` attribute or GenAI content event."""
    if any(key.startswith("gen_ai.") for key in span.attributes):
        return True
    return any(event.name.startswith("gen_ai.") for event in span.events)


def extract(draft: CallDraft) -> None:
    """Offer every field the OTel GenAI names carry: span attributes, then the details event."""
    extract_attributes(draft, draft.attributes)
    for event in draft.events(DETAILS_EVENT):
        extract_attributes(draft, event.attributes, f"event:{DETAILS_EVENT}/")
    extract_legacy_events(draft)


def extract_attributes(draft: CallDraft, attributes: Attributes, origin: str = "") -> None:
    """Offer fields from one attribute set that uses OTel GenAI names."""
    operation = as_str(attributes.get("gen_ai.operation.name"))
    if operation is not None:
        draft.offer("operation", canonical_operation(operation), origin + "gen_ai.operation.name")
    for key in ("gen_ai.provider.name", "gen_ai.system"):
        draft.offer_provider(attributes.get(key), origin + key)
    for name, key in (
        ("request_model", "gen_ai.request.model"),
        ("response_model", "gen_ai.response.model"),
        ("response_id", "gen_ai.response.id"),
        ("error_type", "error.type"),
    ):
        draft.offer(name, as_str(attributes.get(key)), origin + key)
    _extract_usage(draft, attributes, origin)
    for key in ("gen_ai.response.finish_reasons", "gen_ai.response.finish_reason"):
        if key in attributes:
            draft.offer("finish_reasons_raw", raw_finish_reasons(attributes[key]), origin + key)
    draft.offer_bool(
        "is_streaming",
        "gen_ai.request.stream",
        "gen_ai.is_streaming",
        attributes=attributes,
        origin=origin,
    )
    draft.offer_float("ttft_seconds", *_TTFT_KEYS, attributes=attributes, origin=origin)
    _extract_content(draft, attributes, origin)
    _extract_tool_span(draft, attributes, origin)
    for key in ("gen_ai.usage.cost", "gen_ai.cost.total_cost"):
        draft.offer_cost(attributes.get(key), origin + key)


def _extract_usage(draft: CallDraft, attributes: Attributes, origin: str) -> None:
    for key in ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"):
        draft.offer_input_tokens(attributes.get(key), origin + key, includes_cache=None)
    for name, keys in _TOKEN_KEYS.items():
        draft.offer_int(name, *keys, attributes=attributes, origin=origin)


def _extract_content(draft: CallDraft, attributes: Attributes, origin: str) -> None:
    for name, key, role in (
        ("input_messages", "gen_ai.input.messages", "user"),
        ("output_messages", "gen_ai.output.messages", "assistant"),
    ):
        if key in attributes:
            draft.offer(name, canonical_messages(attributes[key], role), origin + key)
    if "gen_ai.system_instructions" in attributes:
        draft.offer(
            "system_instructions",
            instruction_parts(attributes["gen_ai.system_instructions"]),
            origin + "gen_ai.system_instructions",
        )
    definitions = parse_json(attributes.get("gen_ai.tool.definitions"))
    if isinstance(definitions, list):
        draft.offer("tool_definitions", definitions, origin + "gen_ai.tool.definitions")


def instruction_parts(value: Any) -> list[dict[str, Any]] | None:
    """System instructions as a list of parts (a bare string becomes one text part)."""
    parsed = parse_json(value)
    if isinstance(parsed, str):
        return [{"type": "text", "content": parsed}] if parsed else None
    if isinstance(parsed, Mapping):
        parsed = [parsed]
    if not isinstance(parsed, list):
        return None
    parts = [canonical_part(item) for item in parsed]
    return [part for part in parts if part] or None


def _extract_tool_span(draft: CallDraft, attributes: Attributes, origin: str) -> None:
    name = as_str(attributes.get("gen_ai.tool.name"))
    if name is None:
        return
    # A named tool without an operation is a tool execution (as Langfuse also decides).
    draft.offer("operation", "execute_tool", origin + "gen_ai.tool.name")
    call: dict[str, Any] = {
        "id": as_str(attributes.get("gen_ai.tool.call.id")),
        "name": name,
        "arguments": parse_json(attributes.get("gen_ai.tool.call.arguments")),
    }
    if "gen_ai.tool.call.result" in attributes:
        call["result"] = parse_json(attributes["gen_ai.tool.call.result"])
    draft.offer("tool_calls", [call], origin + "gen_ai.tool.name")


def extract_legacy_events(draft: CallDraft) -> None:
    """Content from v1.28-1.36 per-message events and v1.26 prompt/completion events."""
    bodies = [(event.name, event_body(event)) for event in draft.span.events]
    offer_event_messages(draft, bodies, "event:")
    for event_name, key, name, role in (
        ("gen_ai.content.prompt", "gen_ai.prompt", "input_messages", "user"),
        ("gen_ai.content.completion", "gen_ai.completion", "output_messages", "assistant"),
    ):
        for event in draft.events(event_name):
            draft.offer(
                name, canonical_messages(event.attributes.get(key), role), f"event:{event_name}"
            )
        if isinstance(draft.attributes.get(key), str):
            draft.offer(name, canonical_messages(draft.attributes[key], role), key)


def event_body(event: SpanEvent) -> Mapping[str, Any]:
    """The body of a log-style GenAI event carried as a span event."""
    attributes = event.attributes
    for key in ("gen_ai.event.content", "body", "event.body"):
        body = parse_json(attributes.get(key))
        if isinstance(body, Mapping):
            return body
    return attributes


def offer_event_messages(
    draft: CallDraft, bodies: list[tuple[str, Mapping[str, Any]]], origin: str
) -> None:
    """Offer input/output messages and finish reasons from (event name, body) pairs."""
    inputs: list[Message] = []
    outputs: list[Message] = []
    for name, body in bodies:
        if name in _INPUT_EVENTS:
            inputs.append(canonical_message(body, _INPUT_EVENTS[name]))
        elif name == _CHOICE_EVENT:
            outputs.append(_choice_message(body))
    draft.offer("input_messages", inputs, origin + "gen_ai.*.message")
    draft.offer("output_messages", outputs, origin + _CHOICE_EVENT)


def _choice_message(body: Mapping[str, Any]) -> Message:
    message = parse_json(body.get("message"))
    merged: dict[str, Any] = dict(message) if isinstance(message, Mapping) else {}
    if "tool_calls" in body and "tool_calls" not in merged:
        merged["tool_calls"] = body["tool_calls"]
    # The v1.28 spec: a choice without a finish reason ended in error.
    merged["finish_reason"] = as_str(body.get("finish_reason")) or "error"
    return canonical_message(merged, "assistant")
