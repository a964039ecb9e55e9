"""`/v1/traces`: the newest traces of a project, and one trace as a tree of spans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from psycopg.rows import dict_row

from services.api.context import POOL, PROJECTS
from services.api.cursor import decode_cursor, encode_cursor
from services.api.params import int_param, trace_id_param
from services.api.queries import query
from services.api.serialize import span_json, trace_summary_json
from shared.errors import BadInputError, NotFoundError

routes = web.RouteTableDef()


@routes.get("/v1/traces")
async def list_traces(request: web.Request) -> web.Response:
    """Newest first; `limit` (1-1000, default 50) and an opaque `cursor` for the next page."""
    project_id = await request.app[PROJECTS].resolve(request)
    limit = int_param(request.query, "limit", 50, 1, 1000)
    after_start: datetime | None = None
    after_trace_id: str | None = None
    if cursor := request.query.get("cursor"):
        start_us, after_trace_id = decode_cursor(cursor, 2)
        after_start = _from_epoch_us(start_us)
    params = {
        "project_id": project_id, "limit": limit + 1,
        "after_start": after_start, "after_trace_id": after_trace_id,
    }  # fmt: skip
    async with request.app[POOL].connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query("list_traces"), params)
        rows = await cur.fetchall()
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = encode_cursor([_epoch_us(last["start_time"]), last["trace_id"]])
    return web.json_response(
        {"data": [trace_summary_json(row) for row in page], "next_cursor": next_cursor}
    )


@routes.get("/v1/traces/{trace_id}")
async def get_trace(request: web.Request) -> web.Response:
    """Every span of the trace, nested by parent id; spans whose parent is absent are roots."""
    project_id = await request.app[PROJECTS].resolve(request)
    trace_id = trace_id_param(request.match_info["trace_id"])
    async with request.app[POOL].connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query("trace_spans"), {"project_id": project_id, "trace_id": trace_id})
        rows = await cur.fetchall()
    if not rows:
        raise NotFoundError(f"trace {trace_id} not found")
    return web.json_response({"trace_id": trace_id, "span_count": len(rows), "spans": _tree(rows)})


def _tree(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _from_epoch_us(value: Any) -> datetime:
    if not isinstance(value, int):
        raise BadInputError("parameter 'cursor' is not a cursor this API issued")
    return _EPOCH + timedelta(microseconds=value)
