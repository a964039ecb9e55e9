"""LiteLLM's OTel callback (v1 and `LITELLM_OTEL_V2`): call types, string booleans, costs."""

from __future__ import annotations

from shared.span import Span

from .draft import CallDraft
from .finish_reasons import raw_finish_reasons
from .values import as_str

NAME = "litellm"

_CALL_TYPES = {
    "completion": "chat",
    "acompletion": "chat",
    "text_completion": "text_completion",
    "atext_completion": "text_completion",
    "embedding": "embeddings",
    "aembedding": "embeddings",
    "rerank": "rerank",
    "arerank": "rerank",
}
_MARKER_PREFIXES = ("litellm.", "metadata.user_api_key", "hidden_params")
# The raw provider payload span under `litellm_request`: the same call, never counted.
RAW_REQUEST_SPAN = "raw_gen_ai_request"
PROXY_SPAN = "Received Proxy Server Request"


def matches(span: Span) -> bool:
    """Whether the span comes from LiteLLM's callback."""
    if span.scope_name.startswith("litellm") or span.name in (RAW_REQUEST_SPAN, "litellm_request"):
        return True
    return any(key.startswith(_MARKER_PREFIXES) for key in span.attributes)


def extract(draft: CallDraft) -> None:
    """Offer every field LiteLLM's own attributes carry."""
    attributes = draft.attributes
    if draft.span.name == RAW_REQUEST_SPAN:
        draft.offer("span_type", "other", "span.name")
    elif draft.span.name == PROXY_SPAN:
        draft.offer("span_type", "chain", "span.name")
    call_type = as_str(attributes.get("llm.request.type"))
    if call_type is not None and call_type.lower() in _CALL_TYPES:
        draft.offer("operation", _CALL_TYPES[call_type.lower()], "llm.request.type")
    operation = as_str(attributes.get("gen_ai.operation.name"))
    if operation is not None and operation.lower() in _CALL_TYPES:
        # v1 may write its raw call type into the OTel attribute.
        draft.offer("operation", _CALL_TYPES[operation.lower()], "gen_ai.operation.name")
    key = "gen_ai.response.finish_reasons"
    if isinstance(attributes.get(key), str):
        # v1 JSON-encodes the list into a string.
        draft.offer("finish_reasons_raw", raw_finish_reasons(attributes[key]), key)
    draft.offer_bool("is_streaming", "llm.is_streaming", "litellm.request.streaming")
    draft.offer_cost(attributes.get("litellm.cost.total"), "litellm.cost.total")
    draft.offer_cost(attributes.get("gen_ai.cost.total_cost"), "gen_ai.cost.total_cost")
