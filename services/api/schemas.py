"""JSON Schemas of the API's answers, shared by the endpoint specs and the OpenAPI document."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def nullable(kind: str | Schema) -> Schema:
    """A type that may also be null (OpenAPI 3.1 style)."""
    if isinstance(kind, str):
        return {"type": [kind, "null"]}
    return {"anyOf": [kind, {"type": "null"}]}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """An object with these properties (all of `required` always present)."""
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
    }


def page(item: Schema) -> Schema:
    """A cursor-paginated list."""
    return obj({"data": {"type": "array", "items": item}, "next_cursor": nullable("string")})


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
INSTANT: Schema = {"type": "string", "format": "date-time"}
DECIMAL: Schema = {"type": "string", "description": "USD as an exact decimal string"}
ANY: Schema = {}

ERROR = obj({"error": obj({"status": INTEGER, "message": STRING})})

TRACE_SUMMARY = obj({
    "trace_id": STRING, "name": nullable("string"), "root_span_id": nullable("string"),
    "service_name": nullable("string"), "start_time": INSTANT, "end_time": INSTANT,
    "duration_ms": NUMBER, "span_count": INTEGER, "error_count": INTEGER,
    "llm_call_count": INTEGER, "input_tokens": INTEGER, "output_tokens": INTEGER,
    "cost_usd": DECIMAL, "session_id": nullable("string"), "user_id": nullable("string"),
})  # fmt: skip

SPAN = obj({
    "trace_id": STRING, "span_id": STRING, "parent_span_id": nullable("string"),
    "name": STRING, "kind": STRING, "start_time": INSTANT, "end_time": INSTANT,
    "duration_ms": NUMBER, "status": obj({"code": STRING, "message": STRING}),
    "service_name": STRING, "attributes": {"type": "object"},
    "llm": nullable({"type": "object"}), "children": {"type": "array"},
})  # fmt: skip

TRACE = obj({"trace_id": STRING, "span_count": INTEGER, "spans": {"type": "array", "items": SPAN}})

USAGE = obj({
    "input_tokens": nullable("integer"), "output_tokens": nullable("integer"),
    "total_tokens": nullable("integer"), "cache_read_tokens": nullable("integer"),
    "cache_write_tokens": nullable("integer"), "reasoning_tokens": nullable("integer"),
})  # fmt: skip

CALL_SUMMARY = obj({
    "trace_id": STRING, "span_id": STRING, "parent_span_id": nullable("string"),
    "name": STRING, "service_name": STRING, "start_time": INSTANT, "end_time": INSTANT,
    "duration_ms": NUMBER, "provider": nullable("string"), "operation": nullable("string"),
    "request_model": nullable("string"), "response_model": nullable("string"),
    "usage": USAGE, "cost_usd": nullable(DECIMAL), "price_source": nullable("string"),
    "time_to_first_token_ms": nullable("number"), "is_streaming": nullable("boolean"),
    "is_error": BOOLEAN, "error_type": nullable("string"), "session_id": nullable("string"),
    "user_id": nullable("string"), "tags": {"type": "array", "items": STRING},
})  # fmt: skip

TOTALS = {
    "trace_count": INTEGER,
    "llm_call_count": INTEGER,
    "error_count": INTEGER,
    "input_tokens": INTEGER,
    "output_tokens": INTEGER,
    "cost_usd": DECIMAL,
}
