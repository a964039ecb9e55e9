"""Langfuse-compatible reads under `/api/public`: its parameter names, page/limit paging and
response shapes, with Basic auth (public:secret key)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from services.api import langfuse
from services.api.context import CONFIG
from services.api.queries import SPAN_COLUMNS, composed, query
from services.api.reads import fetch_rows
from services.api.routes.people import MAX_SESSION_TRACES
from services.api.routing import json_reply
from services.api.spec import Call, Endpoint, Param
from services.api.timerange import QueryTooWideError, check_raw_range
from shared.errors import BadInputError, NotFoundError

MAX_OFFSET = 100_000
ORDERS = {
    "id": "t.trace_id", "timestamp": "t.start_time", "name": "t.root_name",
    "userId": "t.user_id", "sessionId": "t.session_id",
}  # fmt: skip
PAGING = (
    Param("page", "integer", "Page number, starts at 1.", default=1, minimum=1, maximum=100_000),
    Param("limit", "integer", "Items per page.", default=50, minimum=1, maximum=1000),
)
ENVIRONMENTS = Param("environment", "string", "Any of these environments.", is_multiple=True)


def _offset(call: Call) -> int:
    offset: int = (call.args["page"] - 1) * call.args["limit"]
    if offset > MAX_OFFSET:
        raise QueryTooWideError(
            f"page * limit is past {MAX_OFFSET} items: narrow fromTimestamp/toTimestamp, or use "
            "the cursor-paginated /v1 endpoints"
        )
    return offset


def _order(raw: str | None) -> str:
    if not raw:
        return "t.start_time DESC"
    field, _, direction = raw.partition(".")
    if field not in ORDERS or direction not in ("asc", "desc"):
        raise BadInputError(
            f"parameter 'orderBy' must be [field].[asc|desc] with a field of {', '.join(ORDERS)}"
        )
    return f"{ORDERS[field]} {direction.upper()}"


def _range(call: Call, start: str, end: str, what: str) -> tuple[datetime, datetime]:
    max_days = call.request.app[CONFIG].max_raw_range_days
    to = call.args[end] or datetime.now(UTC)
    since = call.args[start] or to - timedelta(days=max_days)
    if to <= since:
        raise BadInputError(f"parameter {end!r} must be later than {start!r}")
    check_raw_range(since, to, max_days, what)
    return since, to


async def _traces(call: Call, trace_id: str | None, **params: Any) -> list[dict[str, Any]]:
    values: dict[str, Any] = {
        "project_id": call.project_id, "trace_id": trace_id, "from": None, "to": None,
        "user": None, "session": None, "name": None, "environments": [], "tags": [],
        "limit": 1, "offset": 0,
    }  # fmt: skip
    values.update(params)
    order = _order(call.args.get("orderBy"))
    page_order = order.replace("t.", "page.", 1)
    query = composed("langfuse_traces", order=order, order_page=page_order)
    return await fetch_rows(call, query, values)


async def list_traces(call: Call) -> web.StreamResponse:
    """GET /api/public/traces."""
    args = call.args
    rows = await _traces(
        call, None, **{"from": args["fromTimestamp"], "to": args["toTimestamp"]},
        user=args["userId"], session=args["sessionId"], name=args["name"],
        environments=args["environment"], tags=args["tags"], limit=args["limit"],
        offset=_offset(call),
    )  # fmt: skip
    total = rows[0]["total_items"] if rows else 0
    return json_reply({
        "data": [langfuse.trace(row) for row in rows],
        "meta": langfuse.meta(args["page"], args["limit"], total),
    })  # fmt: skip


async def get_trace(call: Call) -> web.StreamResponse:
    """GET /api/public/traces/{traceId}: the trace with its observations."""
    trace_id = call.args["traceId"].lower()
    rows = await _traces(call, trace_id)
    if not rows:
        raise NotFoundError(f"trace {trace_id} not found")
    spans = await fetch_rows(
        call, composed("trace_spans", columns=SPAN_COLUMNS),
        {"project_id": call.project_id, "trace_id": trace_id},
    )  # fmt: skip
    body = langfuse.trace(rows[0])
    body["observations"] = [langfuse.observation(span) for span in spans]
    return json_reply(body)


async def list_observations(call: Call) -> web.StreamResponse:
    """GET /api/public/observations: newest first."""
    args = call.args
    trace_id = args["traceId"].lower() if args["traceId"] else None
    since, to = args["fromStartTime"], args["toStartTime"]
    if trace_id is None:
        since, to = _range(call, "fromStartTime", "toStartTime", "observations without traceId")
    params = {
        "project_id": call.project_id, "trace_id": trace_id, "from": since, "to": to,
        "name": args["name"], "user": args["userId"], "type": args["type"],
        "parent": args["parentObservationId"], "level": args["level"],
        "environments": args["environment"], "limit": args["limit"], "offset": _offset(call),
    }  # fmt: skip
    rows = await fetch_rows(call, composed("langfuse_observations", columns=SPAN_COLUMNS), params)
    total = rows[0]["total_items"] if rows else 0
    return json_reply({
        "data": [langfuse.observation(row) for row in rows],
        "meta": langfuse.meta(args["page"], args["limit"], total),
    })  # fmt: skip


async def list_sessions(call: Call) -> web.StreamResponse:
    """GET /api/public/sessions: newest first."""
    since, to = _range(call, "fromTimestamp", "toTimestamp", "the session list")
    rows = await fetch_rows(
        call, query("langfuse_sessions"),
        {"project_id": call.project_id, "session": None, "from": since, "to": to,
         "limit": call.args["limit"], "offset": _offset(call)},
    )  # fmt: skip
    total = rows[0]["total_items"] if rows else 0
    data = [
        {"id": row["session_id"], "createdAt": row["created_at"], "projectId": call.project_id}
        for row in rows
    ]
    return json_reply(
        {"data": data, "meta": langfuse.meta(call.args["page"], call.args["limit"], total)}
    )


async def get_session(call: Call) -> web.StreamResponse:
    """GET /api/public/sessions/{sessionId}: the session with its traces."""
    session_id = call.args["sessionId"]
    rows = await _traces(call, None, session=session_id, limit=MAX_SESSION_TRACES)
    if not rows:
        raise NotFoundError(f"session {session_id!r} not found")
    traces = sorted((langfuse.trace(row) for row in rows), key=lambda t: (t["timestamp"], t["id"]))
    return json_reply({
        "id": session_id, "createdAt": traces[0]["timestamp"], "projectId": call.project_id,
        "traces": traces,
    })  # fmt: skip


async def daily_metrics(call: Call) -> web.StreamResponse:
    """GET /api/public/metrics/daily: newest day first."""
    args = call.args
    since, to = _range(call, "fromTimestamp", "toTimestamp", "daily metrics")
    rows = await fetch_rows(
        call, query("langfuse_daily"),
        {"project_id": call.project_id, "from": since, "to": to, "user": args["userId"],
         "name": args["traceName"], "environments": args["environment"], "tags": args["tags"]},
    )  # fmt: skip
    days: dict[Any, dict[str, Any]] = {}
    for row in rows:
        if row["is_day_total"]:
            days[row["day"]] = {
                "date": row["day"].isoformat(), "countTraces": row["count_traces"],
                "countObservations": row["count_observations"],
                "totalCost": float(row["total_cost"]), "usage": [],
            }  # fmt: skip
        else:
            days[row["day"]]["usage"].append({
                "model": row["model"], "inputUsage": row["input_usage"],
                "outputUsage": row["output_usage"], "totalUsage": row["total_usage"],
                "countTraces": row["count_traces"],
                "countObservations": row["count_observations"],
                "totalCost": float(row["total_cost"]),
            })  # fmt: skip
    ordered = list(days.values())
    offset, limit = _offset(call), args["limit"]
    return json_reply({
        "data": ordered[offset : offset + limit],
        "meta": langfuse.meta(args["page"], limit, len(ordered)),
    })  # fmt: skip


def _text(name: str, description: str) -> Param:
    return Param(name, "string", description)


def _instant(name: str, description: str) -> Param:
    return Param(name, "datetime", description)


TAGS = Param("tags", "string", "Only traces that have all of these tags.", is_multiple=True)
ENDPOINTS = (
    Endpoint(
        "GET", "/api/public/traces", "langfuseListTraces", "Langfuse: list traces.", "langfuse",
        list_traces, response=langfuse.paged(langfuse.TRACE),
        params=(*PAGING, _text("userId", "User id."), _text("name", "Trace name (exact)."),
                _text("sessionId", "Session id."),
                _instant("fromTimestamp", "Traces starting at or after this instant."),
                _instant("toTimestamp", "Traces starting before this instant."),
                _text("orderBy", "[field].[asc|desc]; fields: id, timestamp, name, userId, "
                      "sessionId. Default timestamp.desc."),
                TAGS, ENVIRONMENTS,
                _text("version", "Accepted for compatibility; not stored, not filtered."),
                _text("release", "Accepted for compatibility; not stored, not filtered.")),
    ),
    Endpoint(
        "GET", "/api/public/traces/{traceId}", "langfuseGetTrace",
        "Langfuse: one trace with its observations.", "langfuse", get_trace,
        response=langfuse.TRACE_FULL,
        params=(Param("traceId", "string", "Trace id: 32 hex digits.", location="path",
                      is_required=True, pattern="[0-9a-fA-F]{32}",
                      pattern_hint="32 hex digits", max_length=32),),
    ),
    Endpoint(
        "GET", "/api/public/observations", "langfuseListObservations",
        "Langfuse: list observations (spans; LLM calls are GENERATION).", "langfuse",
        list_observations, response=langfuse.paged(langfuse.OBSERVATION),
        params=(*PAGING, _text("name", "Observation name (exact)."), _text("userId", "User id."),
                Param("type", "enum", "Observation type.", choices=("GENERATION", "SPAN")),
                Param("traceId", "string", "Trace id.", pattern="[0-9a-fA-F]{32}",
                      pattern_hint="32 hex digits", max_length=32),
                Param("level", "enum", "Level.", choices=("DEFAULT", "ERROR")),
                Param("parentObservationId", "string", "Parent observation id.",
                      pattern="[0-9a-fA-F]{16}", pattern_hint="16 hex digits", max_length=16),
                ENVIRONMENTS,
                _instant("fromStartTime", "Observations starting at or after this instant."),
                _instant("toStartTime", "Observations starting before this instant."),
                _text("version", "Accepted for compatibility; not stored, not filtered.")),
    ),
    Endpoint(
        "GET", "/api/public/sessions", "langfuseListSessions", "Langfuse: list sessions.",
        "langfuse", list_sessions, response=langfuse.paged(langfuse.SESSION),
        params=(*PAGING, _instant("fromTimestamp", "Sessions created at or after this instant."),
                _instant("toTimestamp", "Sessions created before this instant."), ENVIRONMENTS),
    ),
    Endpoint(
        "GET", "/api/public/sessions/{sessionId}", "langfuseGetSession",
        "Langfuse: one session with its traces.", "langfuse", get_session,
        response=langfuse.SESSION_FULL,
        params=(Param("sessionId", "string", "Session id.", location="path", is_required=True),),
    ),
    Endpoint(
        "GET", "/api/public/metrics/daily", "langfuseDailyMetrics",
        "Langfuse: daily usage and cost per model, newest day first.", "langfuse",
        daily_metrics, response=langfuse.paged(langfuse.DAILY), cache_interval="1d",
        range_args=("fromTimestamp", "toTimestamp"), default_span=timedelta(days=30),
        params=(*PAGING, _text("traceName", "Trace name (exact)."), _text("userId", "User id."),
                TAGS, ENVIRONMENTS,
                _instant("fromTimestamp", "Calls at or after this instant."),
                _instant("toTimestamp", "Calls before this instant.")),
    ),
)  # fmt: skip
