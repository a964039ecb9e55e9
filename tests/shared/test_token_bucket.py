"""Token buckets in a real Redis: capacity, refill, all-or-nothing, debt, and the wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from shared.errors import UnavailableError
from shared.token_bucket import Bucket, TokenBuckets


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    await connection.aclose()


async def test_a_bucket_allows_its_capacity_then_says_how_long_to_wait(
    client: redis.Redis,
) -> None:
    buckets = TokenBuckets(client)
    bucket = Bucket("t:requests", rate_per_second=10, capacity=3, cost=1)
    for _ in range(3):
        assert (await buckets.take([bucket])).is_allowed
    refused = await buckets.take([bucket])
    assert not refused.is_allowed
    assert refused.refused_by == bucket
    # One token comes back every 100 ms.
    assert 0 < refused.retry_after_ms <= 100
    assert refused.retry_after_seconds == 1
    await asyncio.sleep(refused.retry_after_ms / 1000 + 0.02)
    assert (await buckets.take([bucket])).is_allowed
    # Stored as integers (milli-tokens and milliseconds), and expiring once full again.
    level, at = await client.hmget("t:requests", ["level", "at"])
    assert int(level) < 1000 and int(at) > 0
    assert 0 < await client.pttl("t:requests") <= 1300


async def test_nothing_is_taken_unless_every_bucket_has_enough(client: redis.Redis) -> None:
    buckets = TokenBuckets(client)
    requests = Bucket("t:{p}:requests", rate_per_second=100, capacity=100, cost=1)
    spans = Bucket("t:{p}:spans", rate_per_second=10, capacity=10, cost=8)
    assert (await buckets.take([requests, spans])).is_allowed
    refused = await buckets.take([requests, spans])
    assert refused.refused_by == spans
    # 2 tokens left, 8 needed: 6 tokens at 10 per second.
    assert 550 <= refused.retry_after_ms <= 600
    assert refused.retry_after_seconds == 1
    level = await client.hget("t:{p}:requests", "level")
    assert level is not None and int(level) >= 99_000  # the request token was not taken


async def test_a_cost_above_capacity_is_taken_from_a_full_bucket_as_debt(
    client: redis.Redis,
) -> None:
    buckets = TokenBuckets(client)
    big = Bucket("t:spans", rate_per_second=100, capacity=100, cost=350)
    assert (await buckets.take([big])).is_allowed
    refused = await buckets.take([Bucket("t:spans", 100, 100, 1)])
    # 250 tokens of debt plus the one needed: about 2.5 s at 100 per second.
    assert 2490 <= refused.retry_after_ms <= 2510
    assert refused.retry_after_seconds == 3


async def test_redis_down_is_unavailable() -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(UnavailableError):
            await TokenBuckets(client).take([Bucket("t", 1, 1, 1)])
    finally:
        await client.aclose()
