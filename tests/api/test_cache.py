"""The answer cache: one computation per key at a time, and keys confined to a project."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as redis

from services.api.cache import ResponseCache, cache_key
from services.api.metrics import ApiMetrics


async def test_concurrent_misses_compute_once(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    metrics = ApiMetrics()
    cache = ResponseCache(client, metrics, lock_ms=5000)
    calls = 0

    async def compute() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        return b'{"answer": 42}'

    results = await asyncio.gather(*(cache.fetch("k", 60, compute) for _ in range(10)))
    assert calls == 1
    assert {body for body, _ in results} == {b'{"answer": 42}'}
    assert sorted(result for _, result in results) == ["hit"] * 9 + ["miss"]
    assert await client.ttl("k") in range(55, 61)
    assert not await client.exists("k:lock")
    await client.aclose()


async def test_a_failed_computation_releases_the_lock(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    cache = ResponseCache(client, ApiMetrics(), lock_ms=5000)

    async def fail() -> bytes:
        raise RuntimeError("database said no")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            await cache.fetch("k", 60, fail)
    assert not await client.exists("k:lock")
    body, result = await cache.fetch("k", 60, _answer)
    assert (body, result) == (b"{}", "miss")
    await client.aclose()


async def _answer() -> bytes:
    return b"{}"


def test_keys_differ_by_project_and_ignore_spelling() -> None:
    args = {"interval": "1h", "group_by": ["model", "provider"], "model": None}
    same = {"model": None, "group_by": ["provider", "model", "model"], "interval": "1h"}
    assert cache_key("a", "getUsage", args) == cache_key("a", "getUsage", same)
    assert cache_key("a", "getUsage", args) != cache_key("b", "getUsage", args)
    assert cache_key("a", "getUsage", args) != cache_key("a", "getLatency", args)
    assert cache_key("a", "getUsage", args).startswith("llmobs:api:cache:{a}:getUsage:")
