"""PostgreSQL connection pools and the translation of driver errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

Configure = Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]
# What PostgreSQL compresses large values with when no other method is available.
DEFAULT_TOAST_COMPRESSION = "pglz"


async def open_pool(
    database_url: str,
    min_size: int,
    max_size: int,
    statement_timeout_ms: int = 0,
    application_name: str = "llm-observatory",
    configure: Configure | None = None,
) -> AsyncConnectionPool[Any]:
    """Open a pool and wait until its first connection works (a config error fails fast);
    `configure` runs on every new connection."""
    options = f"-c application_name={application_name}"
    if statement_timeout_ms:
        options += f" -c statement_timeout={statement_timeout_ms}"
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"options": options, "autocommit": True},
        configure=configure,
        open=False,
    )
    await pool.open(wait=False)
    return pool


def toast_compression(method: str) -> Configure:
    """A `configure` that compresses the connection's large values (TOAST) with `method`,
    falling back to PostgreSQL's default where the server was built without it (said once, and
    not asked again of the pool's later connections)."""
    statement = sql.SQL("SET default_toast_compression = {}").format(sql.Literal(method))
    is_supported = True

    async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
        nonlocal is_supported
        if not is_supported:
            return
        try:
            await conn.execute(statement)
        except psycopg.errors.InvalidParameterValue:
            if not is_supported:  # connections configured concurrently: the first one says it
                return
            is_supported = False
            log.warning(
                "TOAST compression not supported by the server; using its default",
                extra={"wanted": method, "used": DEFAULT_TOAST_COMPRESSION},
            )

    return configure
