"""`/v1/sessions` and `/v1/users`: activity of sessions and users, from the traces table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from services.api.context import CONFIG
from services.api.filters import PAGE, RANGE
from services.api.listing import SortKey, decode_position, encode_position
from services.api.queries import query
from services.api.reads import fetch_row, fetch_rows
from services.api.routing import json_reply
from services.api.schemas import DECIMAL, INSTANT, INTEGER, STRING, TRACE_SUMMARY, nullable, obj
from services.api.schemas import page as page_of
from services.api.serialize import decimal_text, iso, trace_summary_json
from services.api.spec import Call, Endpoint, Param
from services.api.timerange import check_raw_range
from shared.errors import BadInputError, NotFoundError

LAST_SEEN = SortKey("last_seen", "instant")
MAX_SESSION_TRACES = 1000


def _range(call: Call, what: str) -> tuple[datetime, datetime]:
    """The range (default: the last API_MAX_RAW_RANGE_DAYS days), no wider than that."""
    max_days = call.request.app[CONFIG].max_raw_range_days
    end = call.args["to"] or datetime.now(UTC)
    start = call.args["from"] or end - timedelta(days=max_days)
    if end <= start:
        raise BadInputError("parameter 'to' must be later than 'from'")
    check_raw_range(start, end, max_days, what)
    return start, end


def _totals(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "first_seen": iso(row["first_seen"]), "last_seen": iso(row["last_seen"]),
        "trace_count": row["trace_count"], "llm_call_count": row["llm_call_count"],
        "error_count": row["error_count"], "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"], "cost_usd": decimal_text(row["cost_usd"]),
    }  # fmt: skip


async def _list(call: Call, name: str, id_column: str, extra: dict[str, Any]) -> dict[str, Any]:
    start, end = _range(call, f"the {name} list")
    limit = call.args["limit"]
    params = {"project_id": call.project_id, "from": start, "to": end, "limit": limit + 1}
    params.update(extra, **decode_position(call.args["cursor"], "last_seen", LAST_SEEN, 1))
    rows = await fetch_rows(call, query(f"list_{name}"), params)
    page_rows, more = rows[:limit], len(rows) > limit
    cursor = None
    if more:
        last = page_rows[-1]
        cursor = encode_position("last_seen", LAST_SEEN, last["sort_value"], [last[id_column]])
    return {"rows": page_rows, "next_cursor": cursor}


async def list_sessions(call: Call) -> web.StreamResponse:
    """Sessions with traces in the range, most recently active first."""
    listed = await _list(call, "sessions", "session_id", {"user": call.args["user"]})
    data = [
        {"session_id": row["session_id"], "user_id": row["user_id"], **_totals(row)}
        for row in listed["rows"]
    ]
    return json_reply({"data": data, "next_cursor": listed["next_cursor"]})


async def get_session(call: Call) -> web.StreamResponse:
    """The session's traces in start order, with their totals."""
    session_id = call.args["session_id"]
    rows = await fetch_rows(
        call, query("session_traces"),
        {"project_id": call.project_id, "session_id": session_id, "limit": MAX_SESSION_TRACES},
    )  # fmt: skip
    if not rows:
        raise NotFoundError(f"session {session_id!r} not found")
    totals = {
        "trace_count": len(rows),
        "llm_call_count": sum(row["llm_call_count"] for row in rows),
        "error_count": sum(row["error_count"] for row in rows),
        "input_tokens": sum(row["input_tokens"] for row in rows),
        "output_tokens": sum(row["output_tokens"] for row in rows),
        "cost_usd": decimal_text(sum(row["cost_usd"] for row in rows)),
    }
    return json_reply({
        "session_id": session_id, "first_seen": iso(rows[0]["start_time"]),
        "last_seen": iso(max(row["end_time"] for row in rows)),
        "user_ids": sorted({row["user_id"] for row in rows if row["user_id"]}),
        "totals": totals, "is_truncated": len(rows) == MAX_SESSION_TRACES,
        "traces": [trace_summary_json(row) for row in rows],
    })  # fmt: skip


async def list_users(call: Call) -> web.StreamResponse:
    """Users with traces in the range, most recently seen first."""
    listed = await _list(call, "users", "user_id", {})
    data = [
        {"user_id": row["user_id"], "session_count": row["session_count"], **_totals(row)}
        for row in listed["rows"]
    ]
    return json_reply({"data": data, "next_cursor": listed["next_cursor"]})


async def get_user(call: Call) -> web.StreamResponse:
    """A user's all-time usage, cost, errors and when it was last seen."""
    user_id = call.args["user_id"]
    row = await fetch_row(
        call, query("user_totals"), {"project_id": call.project_id, "user_id": user_id}
    )
    if row is None:
        raise NotFoundError(f"user {user_id!r} not found")
    return json_reply({"user_id": user_id, "session_count": row["session_count"], **_totals(row)})


TOTALS = {
    "first_seen": INSTANT, "last_seen": INSTANT, "trace_count": INTEGER,
    "llm_call_count": INTEGER, "error_count": INTEGER, "input_tokens": INTEGER,
    "output_tokens": INTEGER, "cost_usd": DECIMAL,
}  # fmt: skip
SESSION = obj({"session_id": STRING, "user_id": nullable("string"), **TOTALS})
USER = obj({"user_id": STRING, "session_count": INTEGER, **TOTALS})
SESSION_DETAIL = obj({
    "session_id": STRING, "first_seen": INSTANT, "last_seen": INSTANT,
    "user_ids": {"type": "array", "items": STRING}, "totals": {"type": "object"},
    "is_truncated": {"type": "boolean"}, "traces": {"type": "array", "items": TRACE_SUMMARY},
})  # fmt: skip


def _id(name: str, what: str) -> Param:
    return Param(name, "string", f"The {what} id.", location="path", is_required=True)


ENDPOINTS = (
    Endpoint(
        "GET", "/v1/sessions", "listSessions", "Sessions active in a range, newest first.",
        "sessions", list_sessions, response=page_of(SESSION),
        params=(*RANGE, Param("user", "string", "Only this user's sessions."), *PAGE),
    ),
    Endpoint(
        "GET", "/v1/sessions/{session_id}", "getSession", "A session's traces in order, totals.",
        "sessions", get_session, params=(_id("session_id", "session"),), response=SESSION_DETAIL,
    ),
    Endpoint(
        "GET", "/v1/users", "listUsers", "Users seen in a range, most recent first.", "users",
        list_users, params=(*RANGE, *PAGE), response=page_of(USER),
    ),
    Endpoint(
        "GET", "/v1/users/{user_id}", "getUser", "A user's usage, cost, errors and last seen.",
        "users", get_user, params=(_id("user_id", "user"),), response=USER,
    ),
)  # fmt: skip
