"""PostgreSQL connection pools and the translation of driver errors."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool


async def open_pool(
    database_url: str,
    min_size: int,
    max_size: int,
    statement_timeout_ms: int = 0,
    application_name: str = "llm-observatory",
) -> AsyncConnectionPool[Any]:
    """Open a pool and wait until its first connection works (a config error fails fast)."""
    options = f"-c application_name={application_name}"
    if statement_timeout_ms:
        options += f" -c statement_timeout={statement_timeout_ms}"
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"options": options, "autocommit": True},
        open=False,
    )
    await pool.open(wait=False)
    return pool
