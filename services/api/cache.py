"""Answers cached in Redis: one computation per key at a time; Redis down means the database."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson
import redis.asyncio as redis
from redis.exceptions import RedisError

from services.api.metrics import ApiMetrics

log = logging.getLogger(__name__)

HIT = "hit"
MISS = "miss"
PREFIX = "llmobs:api:cache"
# Deletes the lock only if it still holds our token (it may have expired and been retaken).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def cache_key(project_id: str, endpoint: str, args: dict[str, Any]) -> str:
    """The key of an answer: project (a hash tag), endpoint, and a digest of the arguments."""
    digest = hashlib.sha256(orjson.dumps(_normalise(args), option=orjson.OPT_SORT_KEYS))
    return f"{PREFIX}:{{{project_id}}}:{endpoint}:{digest.hexdigest()[:32]}"


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return sorted({_normalise(item) for item in value}, key=str)
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    return value


class ResponseCache:
    """A read-through cache of serialised answers with a Redis lock against stampedes.

    Every Redis failure is counted and answered from the computation itself; after one, Redis
    is left alone for `retry_seconds`, so that an outage costs no timeout per request.
    """

    def __init__(
        self, client: redis.Redis, metrics: ApiMetrics, lock_ms: int, retry_seconds: float = 5.0
    ) -> None:
        self._client = client
        self._metrics = metrics
        self._lock_ms = lock_ms
        self._retry_seconds = retry_seconds
        self._skip_until = 0.0
        self._release = client.register_script(_RELEASE)

    async def fetch(
        self, key: str, ttl_seconds: int, compute: Callable[[], Awaitable[bytes]]
    ) -> tuple[bytes, str]:
        """The cached answer, or the computed one stored for `ttl_seconds`; and hit or miss."""
        if time.monotonic() < self._skip_until:
            return await self._uncached(compute)
        try:
            cached = await self._client.get(key)
            if cached is not None:
                self._metrics.cache_requests.labels(HIT).inc()
                return _as_bytes(cached), HIT
            token = secrets.token_hex(8)
            lock = f"{key}:lock"
            if await self._client.set(lock, token, nx=True, px=self._lock_ms):
                return await self._compute_locked(key, lock, token, ttl_seconds, compute)
            waited = await self._wait_for(key, lock)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return await self._uncached(compute)
        if waited is not None:
            self._metrics.cache_requests.labels(HIT).inc()
            return waited, HIT
        return await self._uncached(compute)

    async def _compute_locked(
        self, key: str, lock: str, token: str, ttl_seconds: int,
        compute: Callable[[], Awaitable[bytes]],
    ) -> tuple[bytes, str]:  # fmt: skip
        self._metrics.cache_requests.labels(MISS).inc()
        try:
            body = await compute()
            # Stored before the lock goes, so that a waiter never sees neither.
            await self._quietly(self._client.set(key, body, ex=ttl_seconds))
        finally:
            await self._quietly(self._release(keys=[lock], args=[token]))
        return body, MISS

    async def _wait_for(self, key: str, lock: str) -> bytes | None:
        """Another request computes this key: wait for its answer while it holds the lock."""
        deadline = time.monotonic() + self._lock_ms / 1000
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            cached = await self._client.get(key)
            if cached is not None:
                return _as_bytes(cached)
            if not await self._client.exists(lock):
                # The holder stores the answer before releasing: read once more, or the answer
                # set between the two reads above would be missed and computed again.
                cached = await self._client.get(key)
                return None if cached is None else _as_bytes(cached)
        return None

    async def _uncached(self, compute: Callable[[], Awaitable[bytes]]) -> tuple[bytes, str]:
        self._metrics.cache_requests.labels(MISS).inc()
        return await compute(), MISS

    async def _quietly(self, operation: Awaitable[Any]) -> None:
        try:
            await operation
        except (RedisError, OSError) as exc:
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self._metrics.cache_errors.inc()
        if time.monotonic() >= self._skip_until:
            log.warning(
                "cache unavailable; answering from the database", extra={"error": repr(exc)}
            )
        self._skip_until = time.monotonic() + self._retry_seconds


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()
