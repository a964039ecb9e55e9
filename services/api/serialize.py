"""JSON shapes of API resources, built from database rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.span import SPAN_KIND_NAMES, STATUS_CODE_NAMES


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _decimal(value: Decimal | None) -> str | None:
    """Costs travel as decimal strings: exact, as stored."""
    return None if value is None else format(value.normalize(), "f")


def trace_summary_json(row: dict[str, Any]) -> dict[str, Any]:
    """One trace in a list."""
    return {
        "trace_id": row["trace_id"],
        "name": row["root_name"],
        "root_span_id": row["root_span_id"],
        "service_name": row["service_name"],
        "start_time": _iso(row["start_time"]),
        "end_time": _iso(row["end_time"]),
        "duration_ms": (row["end_time"] - row["start_time"]).total_seconds() * 1000,
        "span_count": row["span_count"],
        "error_count": row["error_count"],
        "llm_call_count": row["llm_call_count"],
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "cost_usd": _decimal(row["cost_usd"]),
        "session_id": row["session_id"],
        "user_id": row["user_id"],
    }


def span_json(row: dict[str, Any]) -> dict[str, Any]:
    """One span with its LLM fields (null when it is not part of an LLM application)."""
    kind = row["kind"]
    status = row["status_code"]
    return {
        "trace_id": row["trace_id"],
        "span_id": row["span_id"],
        "parent_span_id": row["parent_span_id"],
        "name": row["name"],
        "kind": SPAN_KIND_NAMES[kind] if 0 <= kind < len(SPAN_KIND_NAMES) else str(kind),
        "start_time": _iso(row["start_time"]),
        "end_time": _iso(row["end_time"]),
        # Nanosecond values as strings: JSON numbers lose precision past 2^53.
        "start_time_unix_nano": str(row["start_time_unix_nano"]),
        "end_time_unix_nano": str(row["end_time_unix_nano"]),
        "duration_ms": row["duration_ms"],
        "status": {
            "code": STATUS_CODE_NAMES[status] if 0 <= status < 3 else str(status),
            "message": row["status_message"],
        },
        "trace_state": row["trace_state"],
        "flags": row["flags"],
        "service_name": row["service_name"],
        "attributes": row["attributes"],
        "events": row["events"],
        "links": row["links"],
        "dropped_attributes_count": row["dropped_attributes_count"],
        "dropped_events_count": row["dropped_events_count"],
        "dropped_links_count": row["dropped_links_count"],
        "resource": {
            "attributes": row["resource_attributes"],
            "schema_url": row["resource_schema_url"],
        },
        "scope": {
            "name": row["scope_name"],
            "version": row["scope_version"],
            "attributes": row["scope_attributes"],
        },
        "llm": _llm_json(row) if row["llm_convention"] else None,
        "children": [],
    }


def _llm_json(row: dict[str, Any]) -> dict[str, Any]:
    ttft = row["time_to_first_token_ms"]
    return {
        "convention": row["llm_convention"],
        "span_type": row["llm_span_type"],
        "is_counted": row["llm_is_counted"],
        "provider": row["provider"],
        "provider_raw": row["provider_raw"],
        "operation": row["operation"],
        "request_model": row["request_model"],
        "response_model": row["response_model"],
        "response_id": row["response_id"],
        "usage": {
            "source": row["usage_source"],
            "input_tokens": row["input_tokens"],
            "output_tokens": row["output_tokens"],
            "total_tokens": row["total_tokens"],
            "cache_read_tokens": row["cache_read_tokens"],
            "cache_write_tokens": row["cache_write_tokens"],
            "reasoning_tokens": row["reasoning_tokens"],
            "input_tokens_provider_raw": row["input_tokens_provider_raw"],
        },
        "cost": {
            "total_usd": _decimal(row["cost_usd"]),
            "input_usd": _decimal(row["input_cost_usd"]),
            "output_usd": _decimal(row["output_cost_usd"]),
            "cache_read_usd": _decimal(row["cache_read_cost_usd"]),
            "cache_write_usd": _decimal(row["cache_write_cost_usd"]),
            "reported_usd": _decimal(row["reported_cost_usd"]),
            "price_source": row["price_source"],
            "price_model": row["price_model"],
            "price_version": row["price_version"],
        },
        "finish_reasons": row["finish_reasons"],
        "finish_reasons_raw": row["finish_reasons_raw"],
        "time_to_first_token_ms": ttft,
        "is_streaming": row["is_streaming"],
        "session_id": row["session_id"],
        "user_id": row["user_id"],
        "tags": row["tags"],
        "system_instructions": row["system_instructions"],
        "input_messages": row["input_messages"],
        "output_messages": row["output_messages"],
        "tool_calls": row["tool_calls"],
        "tool_definitions": row["tool_definitions"],
        "is_error": row["is_error"],
        "error": {"type": row["error_type"], "message": row["error_message"]}
        if row["is_error"] or row["error_type"]
        else None,
        "field_sources": row["llm_field_sources"],
    }


def call_summary_json(row: dict[str, Any]) -> dict[str, Any]:
    """One counted LLM call in a list: what it was, what it used and cost, no message content."""
    return {
        "trace_id": row["trace_id"],
        "span_id": row["span_id"],
        "parent_span_id": row["parent_span_id"],
        "name": row["name"],
        "service_name": row["service_name"],
        "start_time": _iso(row["start_time"]),
        "end_time": _iso(row["end_time"]),
        "duration_ms": row["duration_ms"],
        "provider": row["provider"],
        "operation": row["operation"],
        "request_model": row["request_model"],
        "response_model": row["response_model"],
        "usage": {
            name: row[name]
            for name in (
                "input_tokens",
                "output_tokens",
                "total_tokens",
                "cache_read_tokens",
                "cache_write_tokens",
                "reasoning_tokens",
            )
        },
        "cost_usd": _decimal(row["cost_usd"]),
        "price_source": row["price_source"],
        "time_to_first_token_ms": row["time_to_first_token_ms"],
        "is_streaming": row["is_streaming"],
        "is_error": bool(row["is_error"]) or row["status_code"] == 2,
        "error_type": row["error_type"],
        "session_id": row["session_id"],
        "user_id": row["user_id"],
        "tags": row["tags"] or [],
    }


def iso(moment: datetime | None) -> str | None:
    """An instant as RFC 3339 in UTC with a Z."""
    return _iso(moment)


def decimal_text(value: Decimal | None) -> str | None:
    """A USD amount as an exact decimal string."""
    return _decimal(value)
