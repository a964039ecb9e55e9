"""Per-project model prices stored in PostgreSQL (managed through the API), polled and handed to
the price step: a change rebuilds the pipeline, so a processor never reads the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from services.collector.processors.price_override import PriceOverride, parse_overrides

log = logging.getLogger(__name__)

Overrides = Mapping[str, tuple[PriceOverride, ...]]

# In override_id order: the first matching override of a project wins.
_SELECT = """
SELECT project_id, model, match, provider, input_usd_per_million_tokens,
       output_usd_per_million_tokens, cache_read_usd_per_million_tokens,
       cache_write_usd_per_million_tokens, version
FROM model_price_overrides
ORDER BY project_id, override_id
"""


class PriceOverrideSource:
    """The latest overrides read from the database (empty until the first read succeeds)."""

    def __init__(self, pool: AsyncConnectionPool[Any], refresh_seconds: float) -> None:
        self._pool = pool
        self._refresh_seconds = refresh_seconds
        self.current: Overrides = {}

    async def load(self, connection_wait_seconds: float | None = None) -> Overrides:
        """Read every project's overrides; rows the database holds are valid by its checks.
        `connection_wait_seconds` bounds the wait for a connection (default: the pool's)."""
        pooled = self._pool.connection(connection_wait_seconds)
        async with pooled as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(_SELECT)
            rows = await cur.fetchall()
        entries: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            project = row.pop("project_id")
            entries.setdefault(project, []).append({k: v for k, v in row.items() if v is not None})
        problems: list[str] = []
        overrides = parse_overrides(entries, "model_price_overrides", problems)
        if problems:
            log.error("price overrides refused", extra={"problems": problems})
            return self.current
        return overrides

    async def refresh(self, connection_wait_seconds: float | None = None) -> bool:
        """Read again; True when the overrides changed (the pipeline must be rebuilt)."""
        try:
            loaded = await self.load(connection_wait_seconds)
        except (psycopg.Error, PoolTimeout, OSError) as exc:
            log.warning("price overrides not refreshed", extra={"error": type(exc).__name__})
            return False
        if loaded == self.current:
            return False
        self.current = loaded
        return True

    async def watch(self, on_change: Callable[[], Awaitable[None]]) -> None:
        """Refresh every `refresh_seconds` until cancelled; call `on_change` after a change."""
        while True:
            if await self.refresh():
                await on_change()
            await asyncio.sleep(self._refresh_seconds)
