"""`create_app(config)`: the API application with its pool, Redis client and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import redis.asyncio as redis
from aiohttp import web

from services.api.auth import Authenticator
from services.api.budgets.evaluator import run_evaluator
from services.api.cache import ResponseCache
from services.api.config import ApiConfig
from services.api.context import (
    AUTH,
    BUDGETS,
    CACHE,
    CONFIG,
    LIMITER,
    POOL,
    REDIS,
    USAGE_LIMITER,
)
from services.api.cors import API_CORS
from services.api.errors import error_middleware
from services.api.limits.service import UsageLimiter
from services.api.metrics import ApiMetrics
from services.api.ratelimit import RateLimiter
from services.api.routes import ENDPOINTS, docs, health
from services.api.routes.explorer import explorer_routes, load_assets
from services.api.routing import add_endpoints
from services.api.spec import MAX_REQUEST_LINE_BYTES
from services.api.warmup import load_table_catalog
from shared.cors import cors_middleware
from shared.db import open_pool
from shared.keystore import KeyStore
from shared.limit_buckets import LimitBuckets
from shared.limit_store import LimitRules
from shared.usage_limits import parse_defaults

METRICS = web.AppKey("metrics", ApiMetrics)


def create_app(config: ApiConfig, metrics: ApiMetrics | None = None) -> web.Application:
    """Build the application; its pool and Redis client open on startup, close on cleanup."""
    metrics = metrics or ApiMetrics()
    app = web.Application(
        middlewares=[
            metrics.middleware(),
            cors_middleware(config.cors_origins, API_CORS),
            error_middleware,
        ],
        handler_args={"max_line_size": MAX_REQUEST_LINE_BYTES},
    )
    app[CONFIG] = config
    app[METRICS] = metrics
    app.cleanup_ctx.append(_resources)
    app.add_routes(health.routes)
    app.add_routes(docs.routes)
    app.add_routes(explorer_routes(load_assets()))
    add_endpoints(app, ENDPOINTS)
    return app


async def _resources(app: web.Application) -> AsyncIterator[None]:
    config, metrics = app[CONFIG], app[METRICS]
    pool = await open_pool(
        config.database_url, config.db_pool_min_size, config.db_pool_max_size,
        statement_timeout_ms=config.statement_timeout_ms, application_name="llmobs-api",
        configure=load_table_catalog,
    )  # fmt: skip
    client = redis.Redis.from_url(config.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
    app[POOL] = pool
    app[REDIS] = client
    keys = KeyStore(
        pool, config.key_pepper, config.key_cache_ttl_seconds,
        config.key_cache_max_stale_seconds,
    )  # fmt: skip
    app[AUTH] = Authenticator(
        keys, config.admin_key, config.default_project, config.dev_mode, metrics
    )
    app[LIMITER] = RateLimiter(
        client, metrics, config.rate_limit_requests, config.rate_limit_window
    )
    app[CACHE] = ResponseCache(client, metrics, lock_ms=config.statement_timeout_ms + 1000)
    rules = LimitRules(
        pool, parse_defaults(config.limits_defaults, config.limits_burst_percent),
        config.limits_burst_percent, config.key_cache_ttl_seconds,
        config.key_cache_max_stale_seconds,
    )  # fmt: skip
    app[USAGE_LIMITER] = UsageLimiter(
        rules, LimitBuckets(client), config.is_limits_cascading, config.limits_lease_ttl_seconds
    )
    async with run_evaluator(pool, client, config, metrics) as evaluator:
        app[BUDGETS] = evaluator
        yield
    await client.aclose()
    await pool.close()
