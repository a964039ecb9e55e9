"""The limit rules of a project: the configured defaults and its stored overrides, cached.

Read by the API (acquire, bucket state) and the collector (observed usage), which must agree on
the rules; a change of the overrides is seen within the cache's TTL by every process.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from shared.errors import UnavailableError
from shared.ttl_cache import CachedLookup
from shared.usage_limits import LimitRule

_FIND = """
SELECT entity_type, entity_id, resource, unit, limit_per_window, window_seconds, burst
FROM usage_limits WHERE project_id = %s ORDER BY limit_id
"""


class LimitRules:
    """Defaults plus a project's overrides; UnavailableError only when neither the database nor
    a recent enough cached copy can answer."""

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        defaults: tuple[LimitRule, ...],
        burst_percent: int,
        ttl_seconds: float,
        max_stale_seconds: float,
        lookup_timeout_seconds: float = 2.0,
    ) -> None:
        self._pool = pool
        self.defaults = defaults
        self._burst_percent = burst_percent
        self._timeout = lookup_timeout_seconds
        self._cache: CachedLookup[str, tuple[LimitRule, ...]] = CachedLookup(
            self._find, ttl_seconds, max_stale_seconds
        )

    async def rules_of(self, project_id: str) -> tuple[LimitRule, ...]:
        """Every rule of the project, defaults first."""
        stored, _ = await self._cache.get(project_id)
        return (*self.defaults, *stored)

    async def has_limits(self, project_id: str) -> bool:
        """Whether any rule could give the project a bucket."""
        return any(rule.limit > 0 for rule in await self.rules_of(project_id))

    async def reload(self, project_id: str) -> None:
        """Read the project's overrides again (this process changed them)."""
        self._cache.put(project_id, await self._find(project_id))

    async def _find(self, project_id: str) -> tuple[LimitRule, ...]:
        try:
            async with self._pool.connection(timeout=self._timeout) as conn:
                cursor = await conn.execute(_FIND, (project_id,))
                rows = await cursor.fetchall()
        except psycopg.OperationalError as exc:
            raise UnavailableError("the limit rules are unavailable", 2) from exc
        return tuple(
            LimitRule(
                entity_type,
                entity_id,
                resource,
                unit,
                int(limit),
                int(window),
                int(limit) * self._burst_percent // 100 if burst is None else int(burst),
                is_stored=True,
            )
            for entity_type, entity_id, resource, unit, limit, window, burst in rows
        )
