"""The storage admin HTTP API on 8081: health, detailed health and stream statistics."""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as redis
from aiohttp import web
from psycopg_pool import AsyncConnectionPool

from services.storage.consume import StreamConsumer
from services.storage.ingest import Ingestor
from shared.health import dependency_report

POOL_KEY = web.AppKey("pool", AsyncConnectionPool)
REDIS_KEY = web.AppKey("redis", redis.Redis)
INGESTOR_KEY = web.AppKey("ingestor", Ingestor)
CONSUMER_KEY = web.AppKey("consumer", StreamConsumer)


async def health(_: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def health_detailed(request: web.Request) -> web.Response:
    """Readiness: the database and Redis each checked, with latency and error."""
    body, status = await dependency_report(request.app[POOL_KEY], request.app[REDIS_KEY])
    return web.json_response(body, status=status)


async def stats(request: web.Request) -> web.Response:
    """Stream length, pending entries, batches and the last error of the ingest loop."""
    state = request.app[INGESTOR_KEY].state
    length, pending = await request.app[CONSUMER_KEY].lag()
    uptime = max(time.time() - state.started_at, 1e-9)
    body: dict[str, Any] = {
        "stream_length": length,
        "pending": pending,
        "batches": state.batches,
        "spans_written": state.spans_written,
        "metric_points_written": state.metric_points_written,
        "log_records_written": state.log_records_written,
        "last_batch_spans": state.last_batch_spans,
        "spans_per_second": round(state.spans_written / uptime, 3),
        "last_error": state.last_error,
        "last_error_at": state.last_error_at,
    }
    return web.json_response(body)


def build_app(
    pool: AsyncConnectionPool[Any], client: redis.Redis, ingestor: Ingestor,
    consumer: StreamConsumer,
) -> web.Application:  # fmt: skip
    """The admin app, wired to the service's pool, Redis client and ingest loop."""
    app = web.Application()
    app[POOL_KEY] = pool
    app[REDIS_KEY] = client
    app[INGESTOR_KEY] = ingestor
    app[CONSUMER_KEY] = consumer
    app.router.add_get("/health", health)
    app.router.add_get("/health/detailed", health_detailed)
    app.router.add_get("/stats", stats)
    return app
