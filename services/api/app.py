"""`create_app(config)`: the API application with its pool, Redis client and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import redis.asyncio as redis
from aiohttp import web

from services.api.config import ApiConfig
from services.api.context import CONFIG, POOL, PROJECTS, REDIS
from services.api.errors import error_middleware
from services.api.metrics import ApiMetrics
from services.api.projects import ProjectResolver
from services.api.routes import health, traces
from shared.db import open_pool

METRICS = web.AppKey("metrics", ApiMetrics)


def create_app(config: ApiConfig, metrics: ApiMetrics | None = None) -> web.Application:
    """Build the application; its pool and Redis client open on startup, close on cleanup."""
    metrics = metrics or ApiMetrics()
    app = web.Application(middlewares=[metrics.middleware(), error_middleware])
    app[CONFIG] = config
    app[METRICS] = metrics
    app[PROJECTS] = ProjectResolver(config.default_project)
    app.cleanup_ctx.append(_resources)
    app.add_routes(health.routes)
    app.add_routes(traces.routes)
    return app


async def _resources(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    pool = await open_pool(
        config.database_url, config.db_pool_min_size, config.db_pool_max_size,
        statement_timeout_ms=config.statement_timeout_ms, application_name="llmobs-api",
    )  # fmt: skip
    client = redis.Redis.from_url(config.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
    app[POOL] = pool
    app[REDIS] = client
    yield
    await client.aclose()
    await pool.close()
