"""Per-project ingest quotas: requests and spans per second, a default with project overrides."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg
import redis.asyncio as redis
from psycopg_pool import AsyncConnectionPool

from services.collector.config import CollectorConfig
from services.collector.metrics import CollectorMetrics
from shared.errors import ThrottledError, UnavailableError
from shared.token_bucket import Bucket, TokenBuckets
from shared.ttl_cache import CachedLookup

log = logging.getLogger(__name__)

_FIND = "SELECT requests_per_second, spans_per_second FROM project_quotas WHERE project_id = %s"
LIMIT_REQUESTS = "requests"
LIMIT_SPANS = "spans"


@dataclass(frozen=True, slots=True)
class Limits:
    """Rates of one project; 0 means unlimited."""

    requests_per_second: int = 0
    spans_per_second: int = 0


Override = tuple[int | None, int | None]


class ProjectLimits:
    """The limits of a project: its `project_quotas` row over the defaults, cached like keys.

    A database outage never fails ingest: a cached row is used while stale, else the defaults
    (remembered for one TTL, so that requests do not each wait for the database).
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        default: Limits,
        ttl_seconds: float,
        max_stale_seconds: float,
        metrics: CollectorMetrics,
        lookup_timeout_seconds: float = 2.0,
    ) -> None:
        self._pool = pool
        self.default = default
        self._metrics = metrics
        self._timeout = lookup_timeout_seconds
        self._cache: CachedLookup[str, Override | None] = CachedLookup(
            self._find, ttl_seconds, max_stale_seconds
        )

    async def limits_of(self, project_id: str) -> Limits:
        """The project's limits (never raises)."""
        try:
            override, source = await self._cache.get(project_id)
        except UnavailableError:
            self._metrics.quota_limit_lookups.labels("default").inc()
            self._cache.put(project_id, None)
            return self.default
        self._metrics.quota_limit_lookups.labels(source).inc()
        if override is None:
            return self.default
        requests, spans = override
        return Limits(
            self.default.requests_per_second if requests is None else requests,
            self.default.spans_per_second if spans is None else spans,
        )

    async def _find(self, project_id: str) -> Override | None:
        try:
            async with self._pool.connection(timeout=self._timeout) as conn:
                cursor = await conn.execute(_FIND, (project_id,))
                row = await cursor.fetchone()
        except psycopg.OperationalError as exc:
            raise UnavailableError("the quota table is unavailable", 5) from exc
        return None if row is None else (row[0], row[1])


class IngestQuota:
    """Admits a request if its project has a request token and a token per span left.

    If Redis fails, the request is admitted (fail open) and counted: refusing would turn a
    limiter fault into an outage, and the hand-off that follows needs Redis anyway, so a real
    Redis outage is still answered 503 there.
    """

    def __init__(
        self,
        buckets: TokenBuckets,
        limits: ProjectLimits,
        burst_seconds: int,
        metrics: CollectorMetrics,
    ) -> None:
        self._buckets = buckets
        self._limits = limits
        self._burst_seconds = burst_seconds
        self._metrics = metrics
        self._is_failing = False

    async def admit(self, project_id: str, spans: int, signal: str, transport: str) -> None:
        """Return if admitted; raise ThrottledError with the wait the buckets compute."""
        limits = await self._limits.limits_of(project_id)
        buckets = []
        if limits.requests_per_second:
            buckets.append(self._bucket(project_id, LIMIT_REQUESTS, limits.requests_per_second, 1))
        if limits.spans_per_second and spans:
            buckets.append(self._bucket(project_id, LIMIT_SPANS, limits.spans_per_second, spans))
        if not buckets:
            return
        try:
            decision = await self._buckets.take(buckets)
        except UnavailableError as exc:
            self._metrics.quota_check_errors.inc()
            if not self._is_failing:
                log.warning("quota check failed; admitting", extra={"error": repr(exc.__cause__)})
            self._is_failing = True
            return
        self._is_failing = False
        if decision.is_allowed or decision.refused_by is None:
            return
        limit = decision.refused_by.key.rsplit(":", 1)[1]
        rate = decision.refused_by.rate_per_second
        self._metrics.quota_refusals.labels(signal, transport, limit).inc()
        raise ThrottledError(
            f"project {project_id!r} is over its ingest quota of {rate} {limit} per second; "
            f"retry in {decision.retry_after_seconds} s",
            decision.retry_after_seconds,
        )

    def _bucket(self, project_id: str, limit: str, rate: int, cost: int) -> Bucket:
        # The braces make both buckets of a project one Redis Cluster hash slot.
        key = f"llmobs:quota:{{{project_id}}}:{limit}"
        return Bucket(key, rate, rate * self._burst_seconds, cost)


def build_quota(
    client: redis.Redis,
    pool: AsyncConnectionPool[Any],
    config: CollectorConfig,
    metrics: CollectorMetrics,
) -> IngestQuota:
    """The quota of the configured default rates, with overrides read through `pool`."""
    default = Limits(config.ingest_requests_per_second, config.ingest_spans_per_second)
    limits = ProjectLimits(
        pool, default, config.project_cache_ttl_seconds, config.project_cache_max_stale_seconds,
        metrics,
    )  # fmt: skip
    return IngestQuota(TokenBuckets(client), limits, config.ingest_burst_seconds, metrics)
