"""`/v1/traces`: traces of a project by filter and sort, and one trace as a tree of spans."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.api.context import CONFIG
from services.api.filters import FILTERS, PAGE, SORT, filter_values
from services.api.listing import SortKey, decode_position, encode_position, sort_parts
from services.api.queries import SPAN_COLUMNS, composed
from services.api.reads import fetch_rows
from services.api.routing import json_reply
from services.api.schemas import TRACE, TRACE_SUMMARY, page
from services.api.serialize import span_json, trace_summary_json
from services.api.spec import Call, Endpoint, Param
from shared.errors import NotFoundError

TRACE_ID = Param(
    "trace_id", "string", "Trace id: 32 hex digits.", location="path", is_required=True,
    pattern="[0-9a-fA-F]{32}", pattern_hint="32 hex digits", max_length=32,
)  # fmt: skip
SORTS = {
    "time": SortKey("t.start_time", "instant"),
    "duration": SortKey(
        "(extract(epoch FROM t.end_time - t.start_time) * 1000000)::bigint", "integer"
    ),
    "cost": SortKey("t.cost_usd", "decimal"),
}


async def list_traces(call: Call) -> web.StreamResponse:
    """One page of traces matching the filters, in the chosen order."""
    sort, order, limit = call.args["sort"], call.args["order"], call.args["limit"]
    key = SORTS[sort]
    params = filter_values(call.args, call.project_id, call.request.app[CONFIG].max_raw_range_days)
    params.update(decode_position(call.args["cursor"], sort, key, 1), limit=limit + 1)
    rows = await fetch_rows(call, composed("list_traces", **sort_parts(key, order)), params)
    page_rows, more = rows[:limit], len(rows) > limit
    cursor = None
    if more:
        last = page_rows[-1]
        cursor = encode_position(sort, key, last["sort_value"], [last["trace_id"]])
    return json_reply(
        {"data": [trace_summary_json(row) for row in page_rows], "next_cursor": cursor}
    )


async def get_trace(call: Call) -> web.StreamResponse:
    """Every span of the trace, nested by parent id; spans whose parent is absent are roots."""
    trace_id = call.args["trace_id"].lower()
    rows = await fetch_rows(
        call, composed("trace_spans", columns=SPAN_COLUMNS),
        {"project_id": call.project_id, "trace_id": trace_id},
    )  # fmt: skip
    if not rows:
        raise NotFoundError(f"trace {trace_id} not found")
    return json_reply({"trace_id": trace_id, "span_count": len(rows), "spans": tree(rows)})


def tree(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nest spans under their parents; a cycle of parent ids is broken, never followed."""
    nodes = {row["span_id"]: span_json(row) for row in rows}
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    for row in rows:
        parent_id = row["parent_span_id"]
        if parent_id in nodes and parent_id != row["span_id"]:
            children.setdefault(parent_id, []).append(row["span_id"])
        else:
            roots.append(row["span_id"])
    visited: set[str] = set()
    result: list[dict[str, Any]] = []
    for start in [*roots, *(row["span_id"] for row in rows)]:
        if start in visited:
            continue
        visited.add(start)
        result.append(nodes[start])
        stack = [start]
        while stack:
            current = stack.pop()
            for child in children.get(current, ()):
                if child not in visited:
                    visited.add(child)
                    nodes[current]["children"].append(nodes[child])
                    stack.append(child)
    return result


ENDPOINTS = (
    Endpoint(
        "GET", "/v1/traces", "listTraces", "List traces by filter, sorted, cursor-paginated.",
        "traces", list_traces, params=(*FILTERS, *SORT, *PAGE), response=page(TRACE_SUMMARY),
    ),
    Endpoint(
        "GET", "/v1/traces/{trace_id}", "getTrace", "One trace as a tree of spans.", "traces",
        get_trace, params=(TRACE_ID,), response=TRACE,
    ),
)  # fmt: skip
