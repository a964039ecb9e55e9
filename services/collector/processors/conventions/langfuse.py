"""Langfuse's own namespace (`langfuse.observation.*`, `langfuse.trace.*`) from its SDKs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from shared.span import Span

from .draft import CallDraft
from .messages import canonical_messages
from .values import as_int, as_str, parse_json

NAME = "langfuse"

_TYPES = {
    "generation": ("chat", "llm"),
    "embedding": ("embeddings", "embedding"),
    "tool": ("execute_tool", "tool"),
    "agent": ("invoke_agent", "agent"),
    "retriever": ("retrieval", "retrieval"),
    "chain": ("invoke_workflow", "chain"),
    "guardrail": (None, "guardrail"),
    "evaluator": (None, "evaluator"),
    "span": (None, "other"),
    "event": (None, "other"),
}
_USAGE = "langfuse.observation.usage_details"
_CACHE_READ_KEYS = ("input_cached_tokens", "cache_read_input_tokens", "input_cache_read")
_CACHE_WRITE_KEYS = ("input_cache_creation", "input_cache_write")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_REASONING_KEYS = ("output_reasoning_tokens", "output_reasoning")


def matches(span: Span) -> bool:
    """Whether the span comes from a Langfuse SDK or carries `langfuse.*` attributes."""
    if span.scope_name.startswith("langfuse"):
        return True
    return any(key.startswith("langfuse.") for key in span.attributes)


def extract(draft: CallDraft) -> None:
    """Offer every field Langfuse attributes carry."""
    attributes = draft.attributes
    kind = as_str(attributes.get("langfuse.observation.type"))
    if kind is not None:
        operation, span_type = _TYPES.get(kind.lower(), (None, "other"))
        draft.offer("operation", operation, "langfuse.observation.type")
        draft.offer("span_type", span_type, "langfuse.observation.type")
    draft.offer_str("request_model", "langfuse.observation.model.name")
    draft.offer_str("response_model", "langfuse.observation.model.name")
    _extract_usage(draft)
    _extract_cost(draft)
    _extract_ttft(draft)
    for name, key, role in (
        ("input_messages", "langfuse.observation.input", "user"),
        ("output_messages", "langfuse.observation.output", "assistant"),
    ):
        if key in attributes:
            draft.offer(name, canonical_messages(attributes[key], role), key)


def _extract_usage(draft: CallDraft) -> None:
    usage = parse_json(draft.attributes.get(_USAGE))
    if not isinstance(usage, Mapping):
        return
    counts = {str(key): n for key, value in usage.items() if (n := as_int(value)) is not None}
    # Langfuse stores input net of cache and output net of reasoning: the totals are the sums.
    inputs = [n for key, n in counts.items() if key.startswith("input")]
    outputs = [n for key, n in counts.items() if key.startswith("output")]
    if inputs:
        draft.offer_input_tokens(sum(inputs), _USAGE + "#input*", includes_cache=True)
    else:
        draft.offer_input_tokens(counts.get("prompt_tokens"), _USAGE + "#prompt_tokens", None)
    draft.offer(
        "output_tokens",
        sum(outputs) if outputs else counts.get("completion_tokens"),
        _USAGE + "#output*",
    )
    draft.offer("total_tokens", counts.get("total", counts.get("total_tokens")), _USAGE + "#total")
    draft.offer("cache_read_tokens", _first(counts, _CACHE_READ_KEYS), _USAGE + "#cache_read")
    writes = [n for key, n in counts.items() if key.startswith(_CACHE_WRITE_KEYS)]
    draft.offer("cache_write_tokens", sum(writes) if writes else None, _USAGE + "#cache_write")
    draft.offer("reasoning_tokens", _first(counts, _REASONING_KEYS), _USAGE + "#reasoning")


def _first(counts: Mapping[str, int], keys: tuple[str, ...]) -> int | None:
    return next((counts[key] for key in keys if key in counts), None)


def _extract_cost(draft: CallDraft) -> None:
    key = "langfuse.observation.cost_details"
    costs = parse_json(draft.attributes.get(key))
    if not isinstance(costs, Mapping):
        return
    if "total" in costs:
        draft.offer_cost(costs["total"], key + "#total")
        return
    numbers = [v for v in costs.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if numbers:
        draft.offer_cost(sum(numbers), key + "#sum")


def _extract_ttft(draft: CallDraft) -> None:
    key = "langfuse.observation.completion_start_time"
    text = as_str(parse_json(draft.attributes.get(key)))
    if text is None:
        return
    try:
        started = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return
    if started.tzinfo is None:
        return
    # Exact integer arithmetic (a float timestamp loses the microseconds).
    since_epoch = started - _EPOCH
    seconds = since_epoch.days * 86_400 + since_epoch.seconds
    started_ns = seconds * 1_000_000_000 + since_epoch.microseconds * 1_000
    delta_ns = started_ns - draft.span.start_time_unix_nano
    if delta_ns >= 0:
        draft.offer("ttft_seconds", delta_ns / 1e9, key)
