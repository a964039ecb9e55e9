"""The re-pricing endpoints of the storage admin API (admin key required):
`POST /repricing` runs one (a dry run unless `dry_run` is false), `GET /repricing` lists the
audit entries newest first, `GET /repricing/{run_id}` shows one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from services.storage.app_keys import AUTH_KEY, CONFIG_KEY, POOL_KEY
from services.storage.repricing_store import RepricingRequest, list_runs, run_repricing
from shared.errors import BadInputError, NotFoundError

_FIELDS = ("project_id", "start", "end", "dry_run", "reason")
_MAX_REASON_CHARS = 500
_MAX_LIST = 1000


async def post_repricing(request: web.Request) -> web.Response:
    """Re-price a project's window; the run (with per-model changes) as recorded in the audit."""
    caller = await request.app[AUTH_KEY].authenticate(request.headers)
    body = await _json_object(request)
    project_id = body.get("project_id")
    if not isinstance(project_id, str) or not project_id:
        raise BadInputError("project_id: a non-empty string is required")
    caller.check_project(project_id)
    start, end = _moment(body, "start"), _moment(body, "end")
    if end <= start:
        raise BadInputError("end must be after start")
    dry_run = body.get("dry_run", True)
    if not isinstance(dry_run, bool):
        raise BadInputError("dry_run: expected true or false")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > _MAX_REASON_CHARS:
        raise BadInputError(f"reason: a string of at most {_MAX_REASON_CHARS} characters")
    run = await run_repricing(
        request.app[POOL_KEY],
        RepricingRequest(project_id, start, end, dry_run, caller.requested_by, reason),
        request.app[CONFIG_KEY].retention.rollup_1m_days,
    )
    return web.json_response(run)


async def get_repricing_runs(request: web.Request) -> web.Response:
    """`GET /repricing?project_id=&before=<run_id>&count=<n>`: audit entries, newest first."""
    caller = await request.app[AUTH_KEY].authenticate(request.headers)
    project_id = request.query.get("project_id") or caller.project_id
    if project_id is not None:
        caller.check_project(project_id)
    before = _positive(request.query.get("before"), "before", None)
    count = _positive(request.query.get("count"), "count", 100)
    if count is None or count > _MAX_LIST:
        raise BadInputError(f"count must be an integer from 1 to {_MAX_LIST}")
    async with request.app[POOL_KEY].connection() as conn:
        runs = await list_runs(conn, project_id, before, count)
    return web.json_response({
        "runs": runs,
        "next_before": runs[-1]["run_id"] if len(runs) == count else None,
    })  # fmt: skip


async def get_repricing_run(request: web.Request) -> web.Response:
    """`GET /repricing/{run_id}`: one audit entry."""
    caller = await request.app[AUTH_KEY].authenticate(request.headers)
    run_id = _positive(request.match_info["run_id"], "run_id", None)
    async with request.app[POOL_KEY].connection() as conn:
        runs = await list_runs(conn, caller.project_id, run_id=run_id, count=1)
    if not runs:
        raise NotFoundError(f"no re-pricing run {run_id}")
    return web.json_response(runs[0])


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise BadInputError("the body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise BadInputError("the body must be a JSON object")
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise BadInputError(f"unknown field(s) {', '.join(unknown)}; expected {', '.join(_FIELDS)}")
    return body


def _moment(body: dict[str, Any], key: str) -> dt.datetime:
    value = body.get(key)
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadInputError(f"{key}: an ISO 8601 time with its offset is required, e.g. "
                            "2026-01-31T00:00:00Z")  # fmt: skip
    return moment


def _positive(raw: str | None, name: str, default: int | None) -> int | None:
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 18:
        raise BadInputError(f"{name} must be a positive integer")
    return int(raw)
