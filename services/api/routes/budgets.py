"""`/v1/budgets`: each budget's spend, what remains, burn rate and forecast for the period;
`/v1/projects/{id}/budgets`: the stored budgets (ADR 0015)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from services.api.bodies import Field
from services.api.budgets.periods import PERIODS
from services.api.budgets.spend import BudgetState, list_budgets, measure, usd_text
from services.api.context import POOL
from services.api.queries import query
from services.api.reads import fetch_row, fetch_rows
from services.api.routes.projects import PROJECT, own_project
from services.api.routing import json_reply
from services.api.schemas import DECIMAL, INSTANT, INTEGER, NUMBER, STRING, nullable, obj
from services.api.spec import Call, Endpoint, Param
from shared.errors import BadInputError, NotFoundError, PermissionDeniedError

SCOPES = ("project", "user", "model")


def describe(state: BudgetState) -> dict[str, Any]:
    """A budget's state as the API shows it (USD as exact decimal strings)."""
    budget = state.budget
    remaining_usd = None if budget.limit_usd is None else budget.limit_usd - state.spend_usd
    return {
        "budget_id": budget.budget_id, "scope": budget.scope, "scope_id": budget.scope_id,
        "period": budget.period, "period_start": state.period_start,
        "period_end": state.period_end,
        "limit_usd": None if budget.limit_usd is None else usd_text(budget.limit_usd),
        "spend_usd": usd_text(state.spend_usd),
        "remaining_usd": None if remaining_usd is None else usd_text(remaining_usd),
        "limit_tokens": budget.limit_tokens, "spend_tokens": state.spend_tokens,
        "remaining_tokens": None if budget.limit_tokens is None
        else budget.limit_tokens - state.spend_tokens,
        "used_percent": float(round(state.used_percent, 3)),
        "burn_rate_usd_per_hour": {k: usd_text(v) for k, v in state.burn_usd_per_hour.items()},
        "burn_rate_tokens_per_hour": {
            k: float(round(v, 3)) for k, v in state.burn_tokens_per_hour.items()},
        "forecast_usd": usd_text(state.forecast_usd), "forecast_tokens": state.forecast_tokens,
    }  # fmt: skip


async def get_budgets(call: Call) -> web.StreamResponse:
    """Every budget of the caller's project, measured now."""
    if call.principal.is_admin_key:
        raise PermissionDeniedError("budgets belong to a project: read with a project key")
    pool = call.request.app[POOL]
    now = datetime.now(UTC)
    budgets = await list_budgets(pool, call.project_id)
    return json_reply({"data": [describe(await measure(pool, b, now)) for b in budgets],
                       "next_cursor": None})  # fmt: skip


async def list_stored(call: Call) -> web.StreamResponse:
    """The project's stored budgets."""
    project_id = await own_project(call)
    rows = await fetch_rows(call, query("list_budgets"), {"project_id": project_id})
    return json_reply({"data": rows, "next_cursor": None})


async def put_budget(call: Call) -> web.StreamResponse:
    """Store (or replace) the budget of a scope and period."""
    project_id = await own_project(call)
    body = dict(call.body or {})
    scope_id = body["scope_id"] or ""
    if (body["scope"] == "project") != (scope_id == ""):
        raise BadInputError("field 'scope_id' names the user or model, and only for them")
    if body["limit_usd"] is None and body["limit_tokens"] is None:
        raise BadInputError("a budget needs 'limit_usd' or 'limit_tokens'")
    if body["limit_usd"] == 0 or body["limit_tokens"] == 0:
        raise BadInputError("a budget's limits must be above 0")
    url = body["webhook_url"]
    if url is not None and not url.startswith(("http://", "https://")):
        raise BadInputError("field 'webhook_url' must be an http:// or https:// URL")
    row = await fetch_row(call, query("create_budget"), {
        "project_id": project_id, "scope": body["scope"], "scope_id": scope_id,
        "period": body["period"], "limit_usd": body["limit_usd"],
        "limit_tokens": body["limit_tokens"], "webhook_url": url,
    })  # fmt: skip
    return json_reply(row, status=201)


async def delete_budget(call: Call) -> web.StreamResponse:
    """Delete a budget of the project."""
    project_id = await own_project(call)
    row = await fetch_row(
        call, query("delete_budget"),
        {"project_id": project_id, "budget_id": call.args["budget_id"]},
    )  # fmt: skip
    if row is None:
        raise NotFoundError(f"budget {call.args['budget_id']} not found")
    return json_reply({"budget_id": row["budget_id"], "deleted": True})


BUDGET_ID = Param(
    "budget_id", "integer", "Budget id.", location="path", is_required=True,
    minimum=1, maximum=2**62,
)  # fmt: skip
BUDGET_BODY = (
    Field("scope", "enum", "Whose spend.", is_required=True, choices=SCOPES),
    Field("scope_id", "string", "The user id or model name (not for the project)."),
    Field("period", "enum", "UTC day, ISO week or month.", is_required=True, choices=PERIODS),
    Field("limit_usd", "decimal", "USD per period."),
    Field("limit_tokens", "integer", "Tokens (input + output) per period."),
    Field("webhook_url", "string", "POSTed once when 50, 80 and 100 % are crossed."),
)  # fmt: skip
STORED = obj({
    "budget_id": INTEGER, "project_id": STRING, "scope": STRING, "scope_id": STRING,
    "period": STRING, "limit_usd": nullable(DECIMAL), "limit_tokens": nullable("integer"),
    "webhook_url": nullable("string"), "created_at": INSTANT,
})  # fmt: skip
RATES = {"type": "object", "additionalProperties": DECIMAL}
STATE = obj({
    "budget_id": INTEGER, "scope": STRING, "scope_id": STRING, "period": STRING,
    "period_start": INSTANT, "period_end": INSTANT, "limit_usd": nullable(DECIMAL),
    "spend_usd": DECIMAL, "remaining_usd": nullable(DECIMAL),
    "limit_tokens": nullable("integer"), "spend_tokens": INTEGER,
    "remaining_tokens": nullable("integer"), "used_percent": NUMBER,
    "burn_rate_usd_per_hour": RATES,
    "burn_rate_tokens_per_hour": {"type": "object", "additionalProperties": NUMBER},
    "forecast_usd": DECIMAL, "forecast_tokens": INTEGER,
})  # fmt: skip


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return obj({"data": {"type": "array", "items": item}, "next_cursor": {"type": "null"}})


ENDPOINTS = (
    Endpoint(
        "GET", "/v1/budgets", "getBudgets",
        "Each budget's spend, remaining, burn rate and forecast for the current period.",
        "budgets", get_budgets, response=_list(STATE),
    ),
    Endpoint(
        "GET", "/v1/projects/{project_id}/budgets", "listStoredBudgets",
        "The project's stored budgets.", "budgets", list_stored, scope="admin",
        params=(PROJECT,), response=_list(STORED),
    ),
    Endpoint(
        "POST", "/v1/projects/{project_id}/budgets", "putBudget",
        "Store or replace the budget of a scope and period.", "budgets", put_budget,
        scope="admin", params=(PROJECT,), body=BUDGET_BODY, status=201, response=STORED,
    ),
    Endpoint(
        "DELETE", "/v1/projects/{project_id}/budgets/{budget_id}", "deleteBudget",
        "Delete a budget.", "budgets", delete_budget, scope="admin",
        params=(PROJECT, BUDGET_ID),
        response=obj({"budget_id": INTEGER, "deleted": {"type": "boolean"}}),
    ),
)  # fmt: skip
