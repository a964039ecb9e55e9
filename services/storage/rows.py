"""Mapping of hand-off span records (plain dicts) to rows of the spans staging table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from services.storage.columns import json_text, jsonb_safe, pg_text, service_name

# Set by the collector's sample step (services/collector/processors/sample.py) on spans it kept
# by rate: 1/rate, so that sums over kept spans estimate the totals before sampling.
SAMPLE_WEIGHT_ATTRIBUTE = "llmobs.sample_weight"

# Staging columns, in COPY order. Timestamps travel as nanoseconds and are converted in SQL,
# exactly (integer microseconds), rather than through floating point here.
STAGING_COLUMNS: tuple[str, ...] = (
    "project_id", "trace_id", "span_id", "parent_span_id", "name", "kind",
    "start_time_unix_nano", "end_time_unix_nano", "received_unix_nano",
    "status_code", "status_message", "trace_state", "flags", "service_name",
    "attributes", "events", "links", "dropped_attributes_count", "dropped_events_count",
    "dropped_links_count", "resource_attributes", "resource_schema_url", "scope_name",
    "scope_version", "scope_attributes", "sample_weight",
    "llm_convention", "llm_span_type", "llm_is_counted", "provider", "provider_raw", "operation",
    "request_model", "response_model", "response_id",
    "input_tokens", "output_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens",
    "reasoning_tokens", "input_tokens_provider_raw", "usage_source",
    "cost_usd", "input_cost_usd", "output_cost_usd", "cache_read_cost_usd",
    "cache_write_cost_usd", "reported_cost_usd", "price_source", "price_model", "price_version",
    "finish_reasons", "finish_reasons_raw", "time_to_first_token_ms", "is_streaming",
    "session_id", "user_id", "tags", "system_instructions", "input_messages", "output_messages",
    "tool_calls", "tool_definitions", "is_error", "error_type", "error_message",
    "llm_field_sources",
)  # fmt: skip

_USAGE_FIELDS = (
    "input_tokens", "output_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens",
    "reasoning_tokens", "input_tokens_provider_raw",
)  # fmt: skip
_COST_FIELDS = ("total_usd", "input_usd", "output_usd", "cache_read_usd", "cache_write_usd",
                "reported_usd")  # fmt: skip
_NO_LLM: tuple[None, ...] = (None,) * (
    len(STAGING_COLUMNS) - STAGING_COLUMNS.index("llm_convention")
)


def span_row(record: dict[str, Any]) -> tuple[Any, ...]:
    """Return the staging row of one span record, in STAGING_COLUMNS order."""
    resource = record["resource_attributes"]
    head = (
        record["project_id"], record["trace_id"], record["span_id"], record["parent_span_id"],
        pg_text(record["name"]), record["kind"],
        record["start_time_unix_nano"], record["end_time_unix_nano"], record["received_unix_nano"],
        record["status_code"], pg_text(record["status_message"]), pg_text(record["trace_state"]),
        record["flags"], service_name(resource),
        json_text(jsonb_safe(record["attributes"])), json_text(jsonb_safe(record["events"])),
        json_text(jsonb_safe(record["links"])), record["dropped_attributes_count"],
        record["dropped_events_count"], record["dropped_links_count"],
        json_text(jsonb_safe(resource)), pg_text(record["resource_schema_url"]),
        pg_text(record["scope_name"]), pg_text(record["scope_version"]),
        json_text(jsonb_safe(record["scope_attributes"])), sample_weight(record["attributes"]),
    )  # fmt: skip
    llm = record.get("llm")
    if llm:
        return head + _llm_columns(llm)
    identity = record.get("identity")
    if identity:
        return head + _identity_columns(identity)
    return head + _NO_LLM


def sample_weight(attributes: dict[str, Any]) -> float | None:
    """The weight the collector's sample step gave a span it kept by rate (None: weight 1)."""
    weight = attributes.get(SAMPLE_WEIGHT_ATTRIBUTE)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        return None
    return float(weight) if 1 < weight < math.inf else None


_SESSION_AT = STAGING_COLUMNS.index("session_id") - STAGING_COLUMNS.index("llm_convention")


def _identity_columns(identity: dict[str, Any]) -> tuple[Any, ...]:
    """A span that is no LLM call: only the trace identity it states (session, user, tags)."""
    columns: list[Any] = list(_NO_LLM)
    columns[_SESSION_AT : _SESSION_AT + 3] = [
        identity.get("session_id"), identity.get("user_id"), list(identity.get("tags") or ()),
    ]  # fmt: skip
    return tuple(columns)


def _llm_columns(llm: dict[str, Any]) -> tuple[Any, ...]:
    usage = llm.get("usage") or {}
    cost = llm.get("cost") or {}
    ttft = llm.get("time_to_first_token_seconds")
    return (
        llm.get("convention"), llm.get("span_type"), llm.get("is_counted"), llm.get("provider"),
        llm.get("provider_raw"), llm.get("operation"), llm.get("request_model"),
        llm.get("response_model"), llm.get("response_id"),
        *(usage.get(name) for name in _USAGE_FIELDS), usage.get("source"),
        *(cost.get(name) for name in _COST_FIELDS), cost.get("price_source"),
        cost.get("price_model"), cost.get("price_version"),
        list(llm.get("finish_reasons") or ()), list(llm.get("finish_reasons_raw") or ()),
        None if ttft is None else ttft * 1000.0, llm.get("is_streaming"),
        llm.get("session_id"), llm.get("user_id"), list(llm.get("tags") or ()),
        json_text(jsonb_safe(llm.get("system_instructions"))),
        json_text(jsonb_safe(llm.get("input_messages"))),
        json_text(jsonb_safe(llm.get("output_messages"))),
        json_text(jsonb_safe(llm.get("tool_calls"))),
        json_text(jsonb_safe(llm.get("tool_definitions"))),
        llm.get("is_error"), llm.get("error_type"), llm.get("error_message"),
        json_text(llm.get("field_sources") or {}),
    )  # fmt: skip


def span_rows(records: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Return the staging rows of a batch of span records."""
    return [span_row(record) for record in records]
