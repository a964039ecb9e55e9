"""`/v1/limits`: acquire a lease against every applicable usage limit, adjust or release it,
and read an entity's buckets; `/v1/projects/{id}/limits`: the stored overrides (ADR 0010)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.api.bodies import Field
from services.api.context import USAGE_LIMITER
from services.api.queries import query
from services.api.reads import fetch_row, fetch_rows
from services.api.routes.projects import PROJECT, own_project
from services.api.routing import json_reply
from services.api.schemas import BOOLEAN, INSTANT, INTEGER, NUMBER, STRING, nullable, obj
from services.api.spec import Call, Endpoint, Param
from shared.errors import BadInputError, NotFoundError, PermissionDeniedError
from shared.limit_buckets import BucketState
from shared.usage_limits import ANY, ENTITY_TYPES, MAX_WINDOW_SECONDS, MILLI, parse_entity


def _project(call: Call) -> str:
    if call.principal.is_admin_key:
        raise PermissionDeniedError("limits belong to a project: call with a project key")
    return call.project_id


def describe(state: BucketState) -> dict[str, Any]:
    """One bucket as the API shows it: the rule, what is left (negative: debt), its status."""
    spec = state.spec
    if state.cost_milli or state.retry_after_ms:
        status = "passed" if state.is_passed else "exceeded"
    else:
        status = "ok" if state.level_milli > 0 else "in_debt" if state.level_milli < 0 else "empty"
    return {
        "entity": spec.entity.name, "resource": spec.resource, "unit": spec.unit,
        "limit": spec.limit, "window_seconds": spec.window_seconds, "capacity": spec.capacity,
        "remaining": state.level_milli / MILLI, "remaining_milli": state.level_milli,
        "requested": state.cost_milli / MILLI, "status": status,
        "retry_after_ms": state.retry_after_ms,
    }  # fmt: skip


async def acquire(call: Call) -> web.StreamResponse:
    """A lease when every limit holds the costs; else 429 listing every limit and its status."""
    project_id = _project(call)
    body = call.body or {}
    entity = parse_entity(body["entity"])
    grant = await call.request.app[USAGE_LIMITER].acquire(
        project_id, entity, body["resource"] or ANY, body["consume"]
    )
    limits = [describe(state) for state in grant.acquired.states]
    if grant.lease_id is not None:
        ttl = call.request.app[USAGE_LIMITER].lease_ttl_seconds
        return json_reply({"lease_id": grant.lease_id, "expires_in_seconds": ttl,
                           "limits": limits})  # fmt: skip
    wait_ms = grant.acquired.retry_after_ms
    exceeded = [item for item in limits if item["status"] == "exceeded"]
    names = ", ".join(f"{i['entity']} {i['unit']} on {i['resource']}" for i in exceeded)
    response = json_reply({"error": {
        "status": 429, "message": f"over the usage limit(s): {names}; retry in {wait_ms} ms",
        "retry_after_ms": wait_ms, "limits": limits,
    }}, status=429)  # fmt: skip
    response.headers["Retry-After"] = str(max(1, -(-wait_ms // 1000)))
    return response


async def adjust(call: Call) -> web.StreamResponse:
    """Reconcile a lease with the call's actual usage (a bucket may go into debt) and end it."""
    project_id = _project(call)
    consume = (call.body or {})["consume"]
    buckets = await call.request.app[USAGE_LIMITER].adjust(
        project_id, call.args["lease_id"], consume
    )
    return json_reply({"lease_id": call.args["lease_id"], "settled": True, "buckets": buckets})


async def release(call: Call) -> web.StreamResponse:
    """Return a lease's whole reservation (the call did not happen) and end it."""
    project_id = _project(call)
    buckets = await call.request.app[USAGE_LIMITER].release(project_id, call.args["lease_id"])
    return json_reply({"lease_id": call.args["lease_id"], "settled": True, "buckets": buckets})


async def entity_state(call: Call) -> web.StreamResponse:
    """Each bucket of the entity now: what is left, or the debt being waited out."""
    project_id = _project(call)
    entity = parse_entity(call.args["entity"])
    states, now_ms = await call.request.app[USAGE_LIMITER].state(
        project_id, entity, call.args["resource"]
    )
    return json_reply({"entity": entity.name, "now_ms": now_ms,
                       "buckets": [describe(state) for state in states]})  # fmt: skip


async def list_limits(call: Call) -> web.StreamResponse:
    """The project's stored overrides and the configured defaults."""
    project_id = await own_project(call)
    rows = await fetch_rows(call, query("list_usage_limits"), {"project_id": project_id})
    defaults = [
        {"entity_type": rule.entity_type, "entity_id": rule.entity_id, "resource": rule.resource,
         "unit": rule.unit, "limit": rule.limit, "window_seconds": rule.window_seconds,
         "burst": rule.burst}
        for rule in call.request.app[USAGE_LIMITER].rules.defaults
    ]  # fmt: skip
    return json_reply({"data": rows, "defaults": defaults, "next_cursor": None})


async def put_limit(call: Call) -> web.StreamResponse:
    """Store (or replace) the override of an entity type or entity, resource and unit."""
    project_id = await own_project(call)
    body = dict(call.body or {})
    window = body["window_seconds"] or 60
    if window > MAX_WINDOW_SECONDS:
        raise BadInputError(f"field 'window_seconds' must be from 1 to {MAX_WINDOW_SECONDS}")
    if body["entity_type"] == "project" and (body["entity_id"] or ANY) != ANY:
        raise BadInputError("field 'entity_id' must be omitted for the project itself")
    row = await fetch_row(call, query("put_usage_limit"), {
        "project_id": project_id, "entity_type": body["entity_type"],
        "entity_id": body["entity_id"] or ANY, "resource": body["resource"] or ANY,
        "unit": body["unit"], "limit": body["limit"], "window_seconds": window,
        "burst": body["burst"],
    })  # fmt: skip
    await call.request.app[USAGE_LIMITER].rules.reload(project_id)
    return json_reply(row, status=201)


async def delete_limit(call: Call) -> web.StreamResponse:
    """Delete an override of the project."""
    project_id = await own_project(call)
    row = await fetch_row(
        call, query("delete_usage_limit"),
        {"project_id": project_id, "limit_id": call.args["limit_id"]},
    )  # fmt: skip
    if row is None:
        raise NotFoundError(f"limit {call.args['limit_id']} not found")
    await call.request.app[USAGE_LIMITER].rules.reload(project_id)
    return json_reply({"limit_id": row["limit_id"], "deleted": True})


ENTITY_HINT = "project, user:<id> or key:<id>"
LEASE = Param(
    "lease_id", "string", "Lease id, as acquire returned it.", location="path", is_required=True,
    pattern="[0-9a-f]{32}", pattern_hint="32 lowercase hex digits", max_length=32,
)  # fmt: skip
ENTITY = Param(
    "entity", "string", f"The entity: {ENTITY_HINT}.", location="path", is_required=True,
    pattern="project|(user|key):.+", pattern_hint=ENTITY_HINT,
)  # fmt: skip
RESOURCE = Param(
    "resource", "string", "Only the buckets a call on this model counts against (with the "
    "project's, when cascading); default: the entity's own buckets on every resource.",
)  # fmt: skip
LIMIT_ID = Param(
    "limit_id", "integer", "Limit override id.", location="path", is_required=True,
    minimum=1, maximum=2**62,
)  # fmt: skip
CONSUME = Field("consume", "counts", "Amounts by unit (rpm, tpm, ...), thousandths at most.",
                is_required=True)  # fmt: skip
ACQUIRE_BODY = (
    Field("entity", "string", f"Who the call is for: {ENTITY_HINT}.", is_required=True,
          pattern="project|(user|key):.+", pattern_hint=ENTITY_HINT),
    Field("resource", "string", "The model called (default: * only)."),
    CONSUME,
)  # fmt: skip
ADJUST_BODY = (CONSUME,)
LIMIT_BODY = (
    Field("entity_type", "enum", "Entity type.", is_required=True, choices=ENTITY_TYPES),
    Field("entity_id", "string", "One entity's id, or * (default) for every entity of the type."),
    Field("resource", "string", "A model name, or * (default) for every model."),
    Field("unit", "string", "rpm, tpm or a custom unit.", is_required=True,
          pattern="[a-z][a-z0-9_]{0,31}", pattern_hint="a lowercase unit name"),
    Field("limit", "integer", "Units per window; 0 lifts a default (unlimited).",
          is_required=True),
    Field("window_seconds", "integer", "Window in seconds (default 60, at most 86400)."),
    Field("burst", "integer", "Capacity above the limit (default: LIMITS_BURST_PERCENT)."),
)  # fmt: skip
BUCKET = obj({
    "entity": STRING, "resource": STRING, "unit": STRING, "limit": INTEGER,
    "window_seconds": INTEGER, "capacity": INTEGER, "remaining": NUMBER,
    "remaining_milli": INTEGER, "requested": NUMBER, "status": STRING, "retry_after_ms": INTEGER,
})  # fmt: skip
SETTLED = obj({"lease_id": STRING, "settled": BOOLEAN, "buckets": INTEGER})
LIMIT = obj({
    "limit_id": INTEGER, "entity_type": STRING, "entity_id": STRING, "resource": STRING,
    "unit": STRING, "limit": INTEGER, "window_seconds": INTEGER, "burst": nullable("integer"),
    "created_at": INSTANT,
})  # fmt: skip
DEFAULT_LIMIT = obj({
    "entity_type": STRING, "entity_id": STRING, "resource": STRING, "unit": STRING,
    "limit": INTEGER, "window_seconds": INTEGER, "burst": INTEGER,
})  # fmt: skip

ENDPOINTS = (
    Endpoint(
        "POST", "/v1/limits/acquire", "acquireLimits",
        "Check every applicable usage limit at once; a lease, or 429 listing each limit.",
        "limits", acquire, scope="ingest", body=ACQUIRE_BODY,
        response=obj({"lease_id": STRING, "expires_in_seconds": INTEGER,
                      "limits": {"type": "array", "items": BUCKET}}),
    ),
    Endpoint(
        "POST", "/v1/limits/leases/{lease_id}/adjust", "adjustLease",
        "Replace a lease's reservations by the actual usage (debt allowed); ends the lease.",
        "limits", adjust, scope="ingest", params=(LEASE,), body=ADJUST_BODY, response=SETTLED,
    ),
    Endpoint(
        "POST", "/v1/limits/leases/{lease_id}/release", "releaseLease",
        "Return a lease's whole reservation; ends the lease.", "limits", release,
        scope="ingest", params=(LEASE,), response=SETTLED,
    ),
    Endpoint(
        "GET", "/v1/projects/{project_id}/limits", "listLimits",
        "The project's stored limit overrides and the configured defaults.", "limits",
        list_limits, scope="admin", params=(PROJECT,),
        response=obj({"data": {"type": "array", "items": LIMIT},
                      "defaults": {"type": "array", "items": DEFAULT_LIMIT},
                      "next_cursor": {"type": "null"}}),
    ),
    Endpoint(
        "POST", "/v1/projects/{project_id}/limits", "putLimit",
        "Store or replace a limit override.", "limits", put_limit, scope="admin",
        params=(PROJECT,), body=LIMIT_BODY, status=201, response=LIMIT,
    ),
    Endpoint(
        "DELETE", "/v1/projects/{project_id}/limits/{limit_id}", "deleteLimit",
        "Delete a limit override.", "limits", delete_limit, scope="admin",
        params=(PROJECT, LIMIT_ID),
        response=obj({"limit_id": INTEGER, "deleted": BOOLEAN}),
    ),
    Endpoint(
        "GET", "/v1/limits/{entity}", "getEntityLimits",
        "Each bucket of an entity now: what is left, or the debt being waited out.", "limits",
        entity_state, params=(ENTITY, RESOURCE),
        response=obj({"entity": STRING, "now_ms": INTEGER,
                      "buckets": {"type": "array", "items": BUCKET}}),
    ),
)  # fmt: skip
