"""Langfuse public API shapes (camelCase, seconds, USD as numbers) built from our rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from services.api.schemas import Schema, nullable, obj
from services.api.serialize import iso

ENVIRONMENT_KEYS = ("deployment.environment.name", "deployment.environment")


def _usd(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def meta(page: int, limit: int, total_items: int) -> dict[str, int]:
    """Langfuse's MetaResponse."""
    return {
        "page": page, "limit": limit, "totalItems": total_items,
        "totalPages": -(-total_items // limit),
    }  # fmt: skip


def trace(row: dict[str, Any]) -> dict[str, Any]:
    """A TraceWithDetails (GET /traces); `observations` are ids."""
    return {
        "id": row["trace_id"],
        "timestamp": iso(row["start_time"]),
        "name": row["root_name"],
        "input": row["input_messages"],
        "output": row["output_messages"],
        "sessionId": row["session_id"],
        "release": None,
        "version": None,
        "userId": row["user_id"],
        "metadata": row["attributes"] or {},
        "tags": list(row["tags"] or []),
        "public": False,
        "environment": row["environment"] or "default",
        "htmlPath": f"/v1/traces/{row['trace_id']}",
        "latency": (row["end_time"] - row["start_time"]).total_seconds(),
        "totalCost": float(row["cost_usd"] or 0),
        "observations": list(row["observation_ids"] or []),
        "scores": [],
    }


def observation(row: dict[str, Any]) -> dict[str, Any]:
    """An ObservationsView from a span row."""
    is_error = bool(row["is_error"]) or row["status_code"] == 2
    ttft_ms = row["time_to_first_token_ms"]
    start: datetime = row["start_time"]
    first_token = None if ttft_ms is None else iso(start + timedelta(milliseconds=ttft_ms))
    input_tokens, output_tokens = row["input_tokens"], row["output_tokens"]
    total_tokens = row["total_tokens"]
    if total_tokens is None and (input_tokens is not None or output_tokens is not None):
        total_tokens = (input_tokens or 0) + (output_tokens or 0)
    costs = {
        "input": _usd(row["input_cost_usd"]), "output": _usd(row["output_cost_usd"]),
        "total": _usd(row["cost_usd"]),
    }  # fmt: skip
    resource = row["resource_attributes"] or {}
    environment = next((resource[k] for k in ENVIRONMENT_KEYS if k in resource), "default")
    return {
        "id": row["span_id"],
        "traceId": row["trace_id"],
        "type": "GENERATION" if row["llm_is_counted"] else "SPAN",
        "name": row["name"],
        "startTime": iso(start),
        "endTime": iso(row["end_time"]),
        "completionStartTime": first_token,
        "model": row["response_model"] or row["request_model"],
        "modelParameters": {},
        "input": row["input_messages"],
        "output": row["output_messages"],
        "version": None,
        "metadata": row["attributes"] or {},
        "usage": {
            "input": input_tokens,
            "output": output_tokens,
            "total": total_tokens,
            "unit": "TOKENS",
            "inputCost": costs["input"],
            "outputCost": costs["output"],
            "totalCost": costs["total"],
        },
        "usageDetails": {
            key: value
            for key, value in (
                ("input", input_tokens),
                ("output", output_tokens),
                ("total", total_tokens),
                ("cache_read_input_tokens", row["cache_read_tokens"]),
                ("cache_creation_input_tokens", row["cache_write_tokens"]),
                ("reasoning_tokens", row["reasoning_tokens"]),
            )
            if value is not None
        },
        "costDetails": {key: value for key, value in costs.items() if value is not None},
        "level": "ERROR" if is_error else "DEFAULT",
        "statusMessage": row["status_message"] or row["error_message"],
        "parentObservationId": row["parent_span_id"],
        "promptId": None,
        "environment": environment,
        "calculatedInputCost": costs["input"],
        "calculatedOutputCost": costs["output"],
        "calculatedTotalCost": costs["total"],
        "latency": row["duration_ms"] / 1000,
        "timeToFirstToken": None if ttft_ms is None else ttft_ms / 1000,
    }


STRING: Schema = {"type": "string"}
NUMBER: Schema = {"type": "number"}
INTEGER: Schema = {"type": "integer"}
DATETIME: Schema = {"type": "string", "format": "date-time"}
META = obj({"page": INTEGER, "limit": INTEGER, "totalItems": INTEGER, "totalPages": INTEGER})
TRACE_BASE = {
    "id": STRING, "timestamp": DATETIME, "name": nullable("string"),
    "sessionId": nullable("string"), "userId": nullable("string"),
    "tags": {"type": "array", "items": STRING}, "htmlPath": STRING, "latency": NUMBER,
    "totalCost": NUMBER, "scores": {"type": "array"},
}  # fmt: skip
TRACE = obj({**TRACE_BASE, "observations": {"type": "array", "items": STRING}})
OBSERVATION = obj({
    "id": STRING, "traceId": nullable("string"), "type": STRING, "name": nullable("string"),
    "startTime": DATETIME, "endTime": nullable("string"), "model": nullable("string"),
    "level": {"type": "string", "enum": ["DEBUG", "DEFAULT", "WARNING", "ERROR"]},
    "parentObservationId": nullable("string"), "usage": {"type": "object"},
    "latency": nullable("number"), "timeToFirstToken": nullable("number"),
    "calculatedTotalCost": nullable("number"),
})  # fmt: skip
TRACE_FULL = obj({**TRACE_BASE, "observations": {"type": "array", "items": OBSERVATION}})
SESSION = obj({"id": STRING, "createdAt": DATETIME, "projectId": STRING})
SESSION_FULL = obj({
    "id": STRING, "createdAt": DATETIME, "projectId": STRING,
    "traces": {"type": "array", "items": {"type": "object"}},
})  # fmt: skip
USAGE_BY_MODEL = obj({
    "model": nullable("string"), "inputUsage": INTEGER, "outputUsage": INTEGER,
    "totalUsage": INTEGER, "countTraces": INTEGER, "countObservations": INTEGER,
    "totalCost": NUMBER,
})  # fmt: skip
DAILY = obj({
    "date": {"type": "string", "format": "date"}, "countTraces": INTEGER,
    "countObservations": INTEGER, "totalCost": NUMBER,
    "usage": {"type": "array", "items": USAGE_BY_MODEL},
})  # fmt: skip


def paged(item: Schema) -> Schema:
    """Langfuse's `{data, meta}` page."""
    return obj({"data": {"type": "array", "items": item}, "meta": META})
