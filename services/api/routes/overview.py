"""`/v1/stats`, `/v1/models` and `/v1/errors`: totals, per-model totals and error groups."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.api import analytics
from services.api.context import CONFIG
from services.api.cursor import decode_cursor, encode_cursor
from services.api.filters import PAGE, RANGE
from services.api.queries import query
from services.api.reads import fetch_row, fetch_rows
from services.api.routing import json_reply
from services.api.schemas import (
    BOOLEAN,
    DECIMAL,
    INSTANT,
    INTEGER,
    NUMBER,
    STRING,
    nullable,
    obj,
    page,
)  # fmt: skip
from services.api.serialize import decimal_text, iso
from services.api.spec import Call, Endpoint, Param
from services.api.timerange import check_raw_range
from shared.errors import BadInputError


def _window(call: Call) -> analytics.Window:
    return analytics.Window(call.args["from"], call.args["to"], None)


async def get_stats(call: Call) -> web.StreamResponse:
    """Totals over the range: traces, calls, tokens, cost, errors and the error rate."""
    window = _window(call)
    source, rows = await analytics.usage(call, window, ())
    traces = await fetch_row(
        call, query("count_traces"),
        {"project_id": call.project_id, "from": window.start, "to": window.end},
    )  # fmt: skip
    totals = rows[0] if rows else {}
    calls = int(totals.get("requests", 0))
    errors = int(totals.get("errors", 0))
    body = {
        "from": iso(window.start), "to": iso(window.end), "source": source,
        "trace_count": int(traces["trace_count"]) if traces else 0,
        "llm_call_count": calls, "error_count": errors,
        "error_rate": errors / calls if calls else 0.0,
        **{name: int(totals.get(name, 0)) for name in _TOKEN_FIELDS},
        "cost_usd": decimal_text(totals.get("cost_usd")) or "0",
        "unpriced_call_count": int(totals.get("unpriced_requests", 0)),
    }  # fmt: skip
    return json_reply(body)


async def list_models(call: Call) -> web.StreamResponse:
    """Per-model totals over the range; models without a price are listed apart."""
    source, rows = await analytics.usage(call, _window(call), ("model", "provider"))
    models = [
        {
            "model": row["model"], "provider": row["provider"], "requests": row["requests"],
            "errors": row["errors"], **{name: row[name] for name in _TOKEN_FIELDS},
            "cost_usd": decimal_text(row["cost_usd"]),
            "unpriced_requests": row["unpriced_requests"],
            "is_priced": row["unpriced_requests"] == 0,
        }
        for row in rows
    ]  # fmt: skip
    unpriced = sorted({m["model"] for m in models if not m["is_priced"]})
    data, cursor = _page(models, call.args["cursor"], call.args["limit"])
    return json_reply(
        {"source": source, "data": data, "next_cursor": cursor, "unpriced_models": unpriced}
    )


async def list_errors(call: Call) -> web.StreamResponse:
    """Failed LLM spans grouped by error type and model, most frequent first."""
    start, end = call.args["from"], call.args["to"]
    max_days = call.request.app[CONFIG].max_raw_range_days
    check_raw_range(start, end, max_days, "the error list")
    rows = await fetch_rows(
        call, query("error_groups"),
        {"project_id": call.project_id, "from": start, "to": end, "model": call.args["model"],
         "limit": analytics.MAX_ROWS},
    )  # fmt: skip
    groups = [
        {
            "error_type": row["error_type"], "model": row["model"], "count": row["count"],
            "first_seen": iso(row["first_seen"]), "last_seen": iso(row["last_seen"]),
            "last_message": row["last_message"], "last_trace_id": row["last_trace_id"],
        }
        for row in rows
    ]  # fmt: skip
    data, cursor = _page(groups, call.args["cursor"], call.args["limit"])
    return json_reply({"data": data, "next_cursor": cursor})


def _page(items: list[Any], cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    """A page of a list computed whole (small and cached): the cursor holds the offset."""
    offset = 0
    if cursor:
        (offset,) = decode_cursor(cursor, 1)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise BadInputError("parameter 'cursor' is not a cursor this API issued")
    chunk = items[offset : offset + limit]
    more = offset + limit < len(items)
    return chunk, encode_cursor([offset + limit]) if more else None


_TOKEN_FIELDS = (
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
)  # fmt: skip
_TOKENS = {name: INTEGER for name in _TOKEN_FIELDS}
MODEL = obj({
    "model": STRING, "provider": STRING, "requests": INTEGER, "errors": INTEGER, **_TOKENS,
    "cost_usd": DECIMAL, "unpriced_requests": INTEGER, "is_priced": BOOLEAN,
})  # fmt: skip
ERROR_GROUP = obj({
    "error_type": STRING, "model": STRING, "count": INTEGER, "first_seen": INSTANT,
    "last_seen": INSTANT, "last_message": nullable("string"), "last_trace_id": STRING,
})  # fmt: skip
STATS = obj({
    "from": INSTANT, "to": INSTANT, "source": STRING, "trace_count": INTEGER,
    "llm_call_count": INTEGER, "error_count": INTEGER, "error_rate": NUMBER, **_TOKENS,
    "cost_usd": DECIMAL, "unpriced_call_count": INTEGER,
})  # fmt: skip
MODELS = {**page(MODEL)}
MODELS["properties"] = {
    **MODELS["properties"], "source": STRING,
    "unpriced_models": {"type": "array", "items": STRING},
}  # fmt: skip

ENDPOINTS = (
    Endpoint(
        "GET", "/v1/stats", "getStats", "Totals over a range: traces, calls, tokens, cost, errors.",
        "analytics", get_stats, params=RANGE, response=STATS, cache_interval="",
    ),
    Endpoint(
        "GET", "/v1/models", "listModels", "Per-model totals over a range; unpriced models apart.",
        "analytics", list_models, params=(*RANGE, *PAGE), response=MODELS, cache_interval="",
    ),
    Endpoint(
        "GET", "/v1/errors", "listErrors", "Failed LLM calls grouped by error type and model.",
        "analytics", list_errors, cache_interval="", response=page(ERROR_GROUP),
        params=(*RANGE, Param("model", "string", "Only this model."), *PAGE),
    ),
)  # fmt: skip
