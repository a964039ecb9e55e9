"""Running the API's read queries through the pool, rows as dicts."""

from __future__ import annotations

from typing import Any

from psycopg import sql
from psycopg.rows import dict_row

from services.api.context import POOL
from services.api.spec import Call

Query = str | sql.Composed


async def fetch_rows(call: Call, query: Query, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of a query (its statement_timeout set by the pool)."""
    async with (
        call.request.app[POOL].connection() as conn,
        conn.cursor(row_factory=dict_row) as cur,
    ):
        await cur.execute(query, params)
        rows: list[dict[str, Any]] = await cur.fetchall()
        return rows


async def fetch_row(call: Call, query: Query, params: dict[str, Any]) -> dict[str, Any] | None:
    """The first row of a query, or None."""
    rows = await fetch_rows(call, query, params)
    return rows[0] if rows else None
