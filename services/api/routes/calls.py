"""`/v1/calls`: counted LLM calls (one per real provider call) by filter, and one call."""

from __future__ import annotations

from aiohttp import web

from services.api.context import CONFIG
from services.api.filters import FILTERS, PAGE, SORT, filter_values
from services.api.listing import SortKey, decode_position, encode_position, sort_parts
from services.api.queries import SPAN_COLUMNS, composed
from services.api.reads import fetch_row, fetch_rows
from services.api.routing import json_reply
from services.api.schemas import CALL_SUMMARY, SPAN, page
from services.api.serialize import call_summary_json, span_json
from services.api.spec import Call, Endpoint, Param
from shared.errors import NotFoundError

SORTS = {
    "time": SortKey("s.start_time", "instant"),
    "duration": SortKey("s.duration_ms", "number"),
    "cost": SortKey("coalesce(s.cost_usd, 0)", "decimal"),
}
SPAN_ID = Param(
    "span_id", "string", "Span id: 16 hex digits.", location="path", is_required=True,
    pattern="[0-9a-fA-F]{16}", pattern_hint="16 hex digits", max_length=16,
)  # fmt: skip
TRACE_FILTER = Param(
    "trace_id", "string", "The call's trace, should two traces reuse a span id.",
    pattern="[0-9a-fA-F]{32}", pattern_hint="32 hex digits", max_length=32,
)  # fmt: skip


async def list_calls(call: Call) -> web.StreamResponse:
    """One page of counted LLM calls matching the filters, in the chosen order."""
    sort, order, limit = call.args["sort"], call.args["order"], call.args["limit"]
    key = SORTS[sort]
    params = filter_values(call.args, call.project_id, call.request.app[CONFIG].max_raw_range_days)
    params.update(decode_position(call.args["cursor"], sort, key, 2), limit=limit + 1)
    query = composed("list_calls", columns=SPAN_COLUMNS, **sort_parts(key, order))
    rows = await fetch_rows(call, query, params)
    page_rows, more = rows[:limit], len(rows) > limit
    cursor = None
    if more:
        last = page_rows[-1]
        ids = [last["trace_id"], last["span_id"]]
        cursor = encode_position(sort, key, last["sort_value"], ids)
    return json_reply(
        {"data": [call_summary_json(row) for row in page_rows], "next_cursor": cursor}
    )


async def get_call(call: Call) -> web.StreamResponse:
    """One span with its LLM fields and message content."""
    span_id = call.args["span_id"].lower()
    trace_id = call.args["trace_id"].lower() if call.args["trace_id"] else None
    row = await fetch_row(
        call, composed("get_call", columns=SPAN_COLUMNS),
        {"project_id": call.project_id, "span_id": span_id, "trace_id": trace_id},
    )  # fmt: skip
    if row is None:
        raise NotFoundError(f"call {span_id} not found")
    return json_reply(span_json(row))


ENDPOINTS = (
    Endpoint(
        "GET", "/v1/calls", "listCalls", "List counted LLM calls by filter, cursor-paginated.",
        "calls", list_calls, params=(*FILTERS, *SORT, *PAGE), response=page(CALL_SUMMARY),
    ),
    Endpoint(
        "GET", "/v1/calls/{span_id}", "getCall", "One LLM call (span) with its content.",
        "calls", get_call, params=(SPAN_ID, TRACE_FILTER), response=SPAN,
    ),
)  # fmt: skip
