"""Traceloop OpenLLMetry, all three generations: `llm.*`, flattened `gen_ai.prompt.N`, workflows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.span import Span

from .draft import CallDraft
from .finish_reasons import raw_finish_reasons
from .messages import Message, canonical_message, canonical_tool_definition
from .operations import canonical_operation
from .values import as_str, unflatten

NAME = "traceloop"

_SPAN_KINDS = {
    "workflow": ("invoke_workflow", "workflow"),
    "task": (None, "chain"),
    "agent": ("invoke_agent", "agent"),
    "tool": ("execute_tool", "tool"),
}
_MARKER_PREFIXES = (
    "traceloop.",
    "llm.usage.",
    "llm.prompts.",
    "llm.completions.",
    "gen_ai.prompt.",
)
_MARKER_KEYS = ("llm.request.type", "llm.is_streaming", "gen_ai.is_streaming", "llm.vendor")
_TOKEN_KEYS = {
    "output_tokens": ("llm.usage.completion_tokens",),
    "total_tokens": ("llm.usage.total_tokens",),
    "cache_read_tokens": ("gen_ai.usage.cache_read_input_tokens",),
    "cache_write_tokens": ("gen_ai.usage.cache_creation_input_tokens",),
    "reasoning_tokens": ("llm.usage.reasoning_tokens", "gen_ai.usage.reasoning_tokens"),
}
_FINISH_KEYS = (
    "gen_ai.response.finish_reason",
    "gen_ai.response.stop_reason",
    "llm.response.finish_reason",
    "llm.response.stop_reason",
)


def matches(span: Span) -> bool:
    """Whether the span carries Traceloop-only names."""
    attributes = span.attributes
    if any(key in attributes for key in _MARKER_KEYS):
        return True
    return any(key.startswith(_MARKER_PREFIXES) for key in attributes)


def extract(draft: CallDraft) -> None:
    """Offer every field Traceloop attributes carry (OTel names are left to otel_genai)."""
    attributes = draft.attributes
    kind = as_str(attributes.get("traceloop.span.kind"))
    if kind is not None:
        operation, span_type = _SPAN_KINDS.get(kind.lower(), (None, "other"))
        draft.offer("operation", operation, "traceloop.span.kind")
        draft.offer("span_type", span_type, "traceloop.span.kind")
    request_type = as_str(attributes.get("llm.request.type"))
    if request_type is not None and request_type != "unknown":
        draft.offer("operation", canonical_operation(request_type), "llm.request.type")
    draft.offer_provider(attributes.get("llm.vendor"), "llm.vendor")
    draft.offer_str("request_model", "llm.request.model")
    draft.offer_str("response_model", "llm.response.model")
    draft.offer_input_tokens(
        attributes.get("llm.usage.prompt_tokens"), "llm.usage.prompt_tokens", None
    )
    for name, keys in _TOKEN_KEYS.items():
        draft.offer_int(name, *keys)
    draft.offer_bool("is_streaming", "gen_ai.is_streaming", "llm.is_streaming")
    _extract_messages(draft)
    for key in _FINISH_KEYS:
        if key in attributes:
            draft.offer("finish_reasons_raw", raw_finish_reasons(attributes[key]), key)
    functions = unflatten(attributes, "llm.request.functions")
    if isinstance(functions, list):
        definitions = [canonical_tool_definition(item) for item in functions]
        draft.offer("tool_definitions", [d for d in definitions if d], "llm.request.functions")


def _extract_messages(draft: CallDraft) -> None:
    attributes = draft.attributes
    for name, key, role in (
        ("input_messages", "gen_ai.prompt", "user"),
        ("output_messages", "gen_ai.completion", "assistant"),
        ("input_messages", "llm.prompts", "user"),
        ("output_messages", "llm.completions", "assistant"),
    ):
        flattened = unflatten(attributes, key)
        if isinstance(flattened, list):
            messages = [_message(item, role) for item in flattened if isinstance(item, Mapping)]
            draft.offer(name, messages, key)
    output = draft.get("output_messages")
    if draft.sources.get("output_messages") in ("gen_ai.completion", "llm.completions"):
        reasons = [m["finish_reason"] for m in output if "finish_reason" in m]
        draft.offer(
            "finish_reasons_raw", reasons, draft.sources["output_messages"] + ".N.finish_reason"
        )


def _message(item: Mapping[str, Any], default_role: str) -> Message:
    shaped = dict(item)
    # Legacy text completions put the prompt under `gen_ai.prompt.0.user`.
    if "content" not in shaped and isinstance(shaped.get("user"), str):
        shaped["content"] = shaped.pop("user")
    return canonical_message(shaped, default_role)
