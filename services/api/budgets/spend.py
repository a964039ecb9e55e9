"""A budget's state now: spend in its period, burn rate over recent windows, the forecast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.api.budgets.periods import period_bounds
from services.api.queries import query

# Burn rate windows: the short one reacts, the long one forecasts the rest of the period.
BURN_WINDOWS = {"1h": timedelta(hours=1), "6h": timedelta(hours=6)}
FORECAST_WINDOW = "6h"
THRESHOLDS_PERCENT = (50, 80, 100)


@dataclass(frozen=True, slots=True)
class Budget:
    """A stored budget: whose spend, over which period, its limits and webhook."""

    budget_id: int
    project_id: str
    scope: str
    scope_id: str
    period: str
    limit_usd: Decimal | None
    limit_tokens: int | None
    webhook_url: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Budget:
        """From a `budgets` row."""
        return cls(
            row["budget_id"], row["project_id"], row["scope"], row["scope_id"], row["period"],
            row["limit_usd"], row["limit_tokens"], row["webhook_url"],
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class BudgetState:
    """Spend so far in the period, burn rates (per hour) and the forecast at its end."""

    budget: Budget
    period_start: datetime
    period_end: datetime
    spend_usd: Decimal
    spend_tokens: int
    burn_usd_per_hour: dict[str, Decimal]
    burn_tokens_per_hour: dict[str, Decimal]
    forecast_usd: Decimal
    forecast_tokens: int

    @property
    def used_percent(self) -> Decimal:
        """The larger share of the USD and token limits spent, in percent."""
        shares = [Decimal(0)]
        if self.budget.limit_usd:
            shares.append(self.spend_usd * 100 / self.budget.limit_usd)
        if self.budget.limit_tokens:
            shares.append(Decimal(self.spend_tokens) * 100 / self.budget.limit_tokens)
        return max(shares)


def usd_text(value: Decimal) -> str:
    """USD as an exact decimal string, to the micro-dollar, without trailing zeros."""
    return format(round(value, 6).normalize(), "f")


async def measure(pool: AsyncConnectionPool[Any], budget: Budget, now: datetime) -> BudgetState:
    """The budget's state at `now`, from the rollups (raw spans for a user's budget)."""
    start, end = period_bounds(budget.period, now)
    usd, tokens = await _spend(pool, budget, start, now)
    burn_usd: dict[str, Decimal] = {}
    burn_tokens: dict[str, Decimal] = {}
    for name, width in BURN_WINDOWS.items():
        since = max(start, now - width)
        hours = Decimal(max((now - since).total_seconds(), 60.0)) / 3600
        window_usd, window_tokens = await _spend(pool, budget, since, now)
        burn_usd[name] = window_usd / hours
        burn_tokens[name] = Decimal(window_tokens) / hours
    left_hours = Decimal((end - now).total_seconds()) / 3600
    return BudgetState(
        budget, start, end, usd, tokens, burn_usd, burn_tokens,
        usd + burn_usd[FORECAST_WINDOW] * left_hours,
        tokens + int(burn_tokens[FORECAST_WINDOW] * left_hours),
    )  # fmt: skip


async def _spend(
    pool: AsyncConnectionPool[Any], budget: Budget, start: datetime, end: datetime
) -> tuple[Decimal, int]:
    params: dict[str, Any] = {"project_id": budget.project_id, "from": start, "to": end}
    if budget.scope == "user":
        sql, params["user_id"] = query("budget_spend_user"), budget.scope_id
    else:
        sql = query("budget_spend_rollup")
        params["model"] = budget.scope_id if budget.scope == "model" else None
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        row = await cur.fetchone()
    assert row is not None  # an aggregate always answers one row
    return Decimal(row["cost_usd"]), int(row["tokens"])


async def list_budgets(pool: AsyncConnectionPool[Any], project_id: str | None) -> list[Budget]:
    """The budgets of a project, or of every project."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query("list_budgets"), {"project_id": project_id})
        return [Budget.from_row(row) for row in await cur.fetchall()]
