"""Normalised finish reasons: stop, length, content_filter, tool_call, error, other."""

from __future__ import annotations

from typing import Any

from .values import as_str_list

_VOCABULARY = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "complete": "stop",
    "eos": "stop",
    "length": "length",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "content_filter": "content_filter",
    "content-filter": "content_filter",
    "safety": "content_filter",
    "recitation": "content_filter",
    "blocklist": "content_filter",
    "prohibited_content": "content_filter",
    "refusal": "content_filter",
    "tool_calls": "tool_call",
    "tool-calls": "tool_call",
    "tool_call": "tool_call",
    "tool_use": "tool_call",
    "function_call": "tool_call",
    "error": "error",
}


def normalize_finish_reason(raw: str) -> str:
    """Map one raw finish reason (any provider's spelling) onto the normalised vocabulary."""
    return _VOCABULARY.get(raw.strip().lower(), "other")


def raw_finish_reasons(value: Any) -> list[str]:
    """Raw finish reasons from an array, a JSON-encoded array or a single string."""
    return as_str_list(value) if not isinstance(value, str) or value.startswith("[") else [value]
