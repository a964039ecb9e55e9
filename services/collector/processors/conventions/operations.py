"""Operation names onto the OTel vocabulary, and the span type each operation implies."""

from __future__ import annotations

_ALIASES = {
    "completion": "text_completion",
    "generate": "chat",
    "embedding": "embeddings",
}

_SPAN_TYPES = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "embeddings": "embedding",
    "execute_tool": "tool",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "agent_step": "agent",
    "invoke_workflow": "workflow",
    "retrieval": "retrieval",
    "rerank": "rerank",
}

# Operations whose spans are real provider calls that carry their own usage.
PROVIDER_CALL_TYPES = frozenset({"llm", "embedding"})


def canonical_operation(raw: str) -> str:
    """The OTel operation name for a raw value (known aliases mapped, others lower-cased)."""
    lowered = raw.strip().lower()
    return _ALIASES.get(lowered, lowered)


def span_type_of(operation: str | None) -> str | None:
    """The span type an operation implies, or None for operations we do not classify."""
    return _SPAN_TYPES.get(operation) if operation else None
