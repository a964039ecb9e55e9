"""Pydantic Logfire and Pydantic AI: OTel names plus `operation.cost`, request/response data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.span import Span

from .draft import CallDraft
from .finish_reasons import raw_finish_reasons
from .messages import canonical_message, canonical_messages
from .otel_genai import offer_event_messages
from .values import as_int, as_str, dig, parse_json

NAME = "logfire"

_MARKER_PREFIXES = ("logfire.", "pydantic_ai.", "gen_ai.aggregated_usage.")
_MARKER_KEYS = ("operation.cost", "request_data", "response_data", "model_request_parameters")
_AGGREGATED = "gen_ai.aggregated_usage."


def matches(span: Span) -> bool:
    """Whether the span comes from Logfire / Pydantic AI or carries their own names."""
    scope = span.scope_name
    if scope.startswith(("logfire", "pydantic-ai", "pydantic_ai")):
        return True
    attributes = span.attributes
    return any(key in attributes for key in _MARKER_KEYS) or any(
        key.startswith(_MARKER_PREFIXES) for key in attributes
    )


def extract(draft: CallDraft) -> None:
    """Offer every field Logfire / Pydantic AI attributes carry."""
    attributes = draft.attributes
    if _is_agent_run(attributes):
        draft.offer("operation", "invoke_agent", "pydantic_ai.all_messages")
        _extract_aggregated_usage(draft)
        draft.offer(
            "input_messages",
            canonical_messages(attributes.get("pydantic_ai.all_messages")),
            "pydantic_ai.all_messages",
        )
    draft.offer_cost(attributes.get("operation.cost"), "operation.cost")
    _extract_request_data(draft)
    _extract_response_data(draft)
    events = parse_json(attributes.get("events"))
    if isinstance(events, list):
        bodies = [(as_str(e.get("event.name")) or "", e) for e in events if isinstance(e, Mapping)]
        offer_event_messages(draft, bodies, "events#")
    if "gen_ai.tool.name" in attributes and "tool_arguments" in attributes:
        call: dict[str, Any] = {
            "id": as_str(attributes.get("gen_ai.tool.call.id")),
            "name": as_str(attributes.get("gen_ai.tool.name")),
            "arguments": parse_json(attributes.get("tool_arguments")),
        }
        if "tool_response" in attributes:
            call["result"] = parse_json(attributes["tool_response"])
        draft.offer("tool_calls", [call], "tool_arguments")


def _is_agent_run(attributes: Mapping[str, Any]) -> bool:
    if "pydantic_ai.all_messages" in attributes:
        return True
    return any(key.startswith(_AGGREGATED) for key in attributes)


def _extract_aggregated_usage(draft: CallDraft) -> None:
    # Agent runs sum their model requests' usage; it is recorded but never counted.
    attributes = draft.attributes
    draft.offer_input_tokens(
        attributes.get(_AGGREGATED + "input_tokens"), _AGGREGATED + "input_tokens", None
    )
    for name, suffix in (
        ("output_tokens", "output_tokens"),
        ("cache_read_tokens", "cache_read.input_tokens"),
        ("cache_write_tokens", "cache_creation.input_tokens"),
        ("reasoning_tokens", "reasoning.output_tokens"),
    ):
        draft.offer_int(name, _AGGREGATED + suffix)


def _extract_request_data(draft: CallDraft) -> None:
    request = parse_json(draft.attributes.get("request_data"))
    if not isinstance(request, Mapping):
        return
    draft.offer("request_model", as_str(request.get("model")), "request_data#model")
    draft.offer(
        "input_messages", canonical_messages(request.get("messages")), "request_data#messages"
    )
    stream = request.get("stream")
    draft.offer("is_streaming", stream if isinstance(stream, bool) else None, "request_data#stream")


def _extract_response_data(draft: CallDraft) -> None:
    response = parse_json(draft.attributes.get("response_data"))
    if not isinstance(response, Mapping):
        return
    source = "response_data"
    draft.offer("response_id", as_str(response.get("id")), source + "#id")
    draft.offer("response_model", as_str(response.get("model")), source + "#model")
    usage = response.get("usage")
    for key in ("prompt_tokens", "input_tokens"):
        draft.offer_input_tokens(dig(usage, key), f"{source}#usage.{key}", None)
    for key in ("completion_tokens", "output_tokens"):
        draft.offer("output_tokens", as_int(dig(usage, key)), f"{source}#usage.{key}")
    message = response.get("message")
    if isinstance(message, Mapping):
        draft.offer(
            "output_messages", [canonical_message(message, "assistant")], source + "#message"
        )
    choices = response.get("choices")
    if isinstance(choices, list):
        messages = [_choice(choice) for choice in choices if isinstance(choice, Mapping)]
        draft.offer("output_messages", messages, source + "#choices")
        reasons = [choice.get("finish_reason") for choice in choices if isinstance(choice, Mapping)]
        draft.offer(
            "finish_reasons_raw", raw_finish_reasons([r for r in reasons if r]), source + "#choices"
        )


def _choice(choice: Mapping[str, Any]) -> dict[str, Any]:
    message = choice.get("message")
    shaped = dict(message) if isinstance(message, Mapping) else {}
    if choice.get("finish_reason"):
        shaped["finish_reason"] = choice["finish_reason"]
    return canonical_message(shaped, "assistant")
