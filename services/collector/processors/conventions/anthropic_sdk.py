"""The Anthropic SDK's own tracing (scope `com.anthropic.sdk.*`): OTel names plus `anthropic.*`."""

from __future__ import annotations

from shared.span import Span

from .draft import CallDraft
from .values import as_int, as_str

NAME = "anthropic_sdk"

SCOPE_PREFIX = "com.anthropic"
_MARKER_KEYS = ("anthropic.message.stop_reason", "anthropic.request.id")
_CACHE_WRITE_PARTS = (
    "anthropic.usage.cache_creation.ephemeral_5m_input_tokens",
    "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
)


def matches(span: Span) -> bool:
    """Whether the span is the SDK's own span of a request."""
    if span.scope_name.startswith(SCOPE_PREFIX):
        return True
    return any(key in span.attributes for key in _MARKER_KEYS)


def extract(draft: CallDraft) -> None:
    """Offer the SDK's raw stop reason and cache-write split (OTel names go to otel_genai)."""
    attributes = draft.attributes
    stop = as_str(attributes.get("anthropic.message.stop_reason"))
    draft.offer("finish_reasons_raw", [stop] if stop else None, "anthropic.message.stop_reason")
    parts = [as_int(attributes.get(key)) for key in _CACHE_WRITE_PARTS]
    if (
        any(part is not None for part in parts)
        and "gen_ai.usage.cache_write.input_tokens" not in attributes
    ):
        total = sum(part for part in parts if part is not None)
        draft.offer("cache_write_tokens", total, "anthropic.usage.cache_creation.*")
