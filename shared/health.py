"""Dependency checks for `/health/detailed`: each with its status, latency and error."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as redis
from psycopg import Error as PsycopgError
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from redis.exceptions import RedisError

_TIMEOUT_SECONDS = 2.0


async def check_postgres(pool: AsyncConnectionPool[Any]) -> dict[str, Any]:
    """Run `SELECT 1` through the pool."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(_TIMEOUT_SECONDS):
            async with pool.connection(timeout=_TIMEOUT_SECONDS) as conn:
                await conn.execute("SELECT 1")
    except (PsycopgError, PoolTimeout, TimeoutError, OSError) as exc:
        return _failed(started, exc)
    return _passed(started)


async def check_redis(client: redis.Redis) -> dict[str, Any]:
    """Send PING."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(_TIMEOUT_SECONDS):
            await client.ping()
    except (RedisError, TimeoutError, OSError) as exc:
        return _failed(started, exc)
    return _passed(started)


def _passed(started: float) -> dict[str, Any]:
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 3)}


def _failed(started: float, exc: BaseException) -> dict[str, Any]:
    return {
        "status": "error",
        "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        "error": f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
    }


async def dependency_report(
    pool: AsyncConnectionPool[Any], client: redis.Redis
) -> tuple[dict[str, Any], int]:
    """The `/health/detailed` body and status: 200 when both dependencies answer, else 503."""
    checks = {"database": await check_postgres(pool), "redis": await check_redis(client)}
    healthy = all(check["status"] == "ok" for check in checks.values())
    return {"status": "ok" if healthy else "degraded", "checks": checks}, 200 if healthy else 503
