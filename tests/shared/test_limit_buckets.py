"""Leased buckets against a real Redis: all-or-nothing acquire, exact refill in milli-units,
debt that delays the next acquire by the computed time, adjust and release, and several OS
processes hammering one limit without ever exceeding it."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from shared.limit_buckets import LimitBuckets
from shared.usage_limits import BucketSpec, Entity, bucket_key, lease_key

PROJECT = "acme"


def spec(
    unit: str, limit: int, window_seconds: int = 60, burst: int = 0, who: str = "u1"
) -> BucketSpec:
    entity = Entity("user", who)
    return BucketSpec(
        bucket_key(PROJECT, entity, "*", unit), entity, "*", unit, limit, window_seconds,
        limit + burst,
    )  # fmt: skip


def new_lease() -> str:
    return lease_key(PROJECT, str(uuid.uuid4()))


@pytest.fixture
async def buckets(redis_url: str) -> AsyncIterator[LimitBuckets]:
    client = redis.Redis.from_url(redis_url)
    yield LimitBuckets(client)
    await client.aclose()


async def test_acquire_is_all_or_nothing(buckets: LimitBuckets, redis_url: str) -> None:
    rpm, tpm = spec("rpm", 10), spec("tpm", 1000)
    assert (await buckets.acquire([tpm], [700_000], new_lease(), 60_000)).is_granted
    refused = await buckets.acquire([rpm, tpm], [1000, 600_000], new_lease(), 60_000)
    assert not refused.is_granted
    assert [s.is_passed for s in refused.states] == [True, False]
    # Nothing was taken from the bucket that passed.
    states, _ = await buckets.peek([rpm, tpm])
    assert states[0].level_milli == 10_000 and states[1].level_milli < 400_000
    granted = await buckets.acquire([rpm, tpm], [1000, 250_000], new_lease(), 60_000)
    assert granted.is_granted
    assert (
        9_000 <= granted.states[0].level_milli < 9_100 and granted.states[1].level_milli < 150_000
    )


async def test_a_cost_above_capacity_passes_from_a_full_bucket_into_debt(
    buckets: LimitBuckets,
) -> None:
    tpm = spec("tpm", 1000)
    taken = await buckets.acquire([tpm], [1_500_000], new_lease(), 60_000)
    assert taken.is_granted and taken.states[0].level_milli == -500_000
    assert not (await buckets.acquire([tpm], [1_500_000], new_lease(), 60_000)).is_granted


def expected_refill(elapsed_ms: int, limit: int, window_seconds: int, rem: int) -> tuple[int, int]:
    part = elapsed_ms * limit + rem
    return part // window_seconds, part % window_seconds


async def test_refill_is_exact_in_milli_units(buckets: LimitBuckets) -> None:
    # 7 units per 3 s: 7/3 milli-units per ms, a fraction the remainder must carry exactly.
    bucket = spec("tpm", 7, window_seconds=3)
    emptied = await buckets.acquire([bucket], [7000], new_lease(), 60_000)
    assert emptied.is_granted and emptied.states[0].level_milli == 0
    level, rem, at = 0, 0, emptied.now_ms
    for _ in range(12):
        await asyncio.sleep(0.037)
        # A take of 1 milli-unit writes the refilled level and remainder each time.
        taken = await buckets.acquire([bucket], [1], new_lease(), 60_000)
        assert taken.is_granted
        added, rem = expected_refill(taken.now_ms - at, 7, 3, rem)
        level = level + added - 1
        at = taken.now_ms
        assert taken.states[0].level_milli == level
    # Over the whole run the refill telescopes to one floor: no drift.
    total_ms = at - emptied.now_ms
    assert level == (total_ms * 7) // 3 - 12
    states, now = await buckets.peek([bucket])
    added, rem_now = expected_refill(now - at, 7, 3, rem)
    assert states[0].level_milli == level + added and states[0].rem == rem_now


async def test_debt_delays_the_next_acquire_by_the_computed_time(buckets: LimitBuckets) -> None:
    # 600 units per 60 s: 10 milli-units per ms.
    bucket = spec("tpm", 600)
    lease = new_lease()
    assert (await buckets.acquire([bucket], [100_000], lease, 60_000)).is_granted
    # The call used 700 units, not 100: the bucket owes 100 units.
    levels = await buckets.settle(lease, {"tpm": 700_000})
    assert levels is not None and -100_000 <= levels[0] < -95_000
    refused = await buckets.acquire([bucket], [50_000], new_lease(), 60_000)
    assert not refused.is_granted
    state = refused.states[0]
    # The wait is the time to refill the debt and the cost: (50 000 - level) / 10 ms.
    assert state.retry_after_ms == -(-(50_000 - state.level_milli) // 10)
    assert 14_000 <= state.retry_after_ms <= 15_000
    # Even a call costing nothing waits while in debt.
    assert not (await buckets.acquire([bucket], [0], new_lease(), 60_000)).is_granted


async def test_debt_is_waited_out_then_the_acquire_passes(buckets: LimitBuckets) -> None:
    # 60 units per second: 60 milli-units per ms; a debt of 30 units lasts 500 ms.
    bucket = spec("tpm", 60, window_seconds=1)
    lease = new_lease()
    assert (await buckets.acquire([bucket], [60_000], lease, 60_000)).is_granted
    await buckets.settle(lease, {"tpm": 90_000})
    refused = await buckets.acquire([bucket], [6_000], new_lease(), 60_000)
    assert not refused.is_granted
    wait_ms = refused.retry_after_ms
    level = refused.states[0].level_milli
    assert wait_ms == -(-(6_000 - level) // 60) and 300 <= wait_ms <= 600
    await asyncio.sleep(wait_ms / 2000)
    assert not (await buckets.acquire([bucket], [6_000], new_lease(), 60_000)).is_granted
    await asyncio.sleep(wait_ms / 1000)
    assert (await buckets.acquire([bucket], [6_000], new_lease(), 60_000)).is_granted


async def test_release_returns_the_reservation_and_ends_the_lease(buckets: LimitBuckets) -> None:
    rpm, tpm = spec("rpm", 5), spec("tpm", 1000)
    lease = new_lease()
    assert (await buckets.acquire([rpm, tpm], [1000, 800_000], lease, 60_000)).is_granted
    levels = await buckets.settle(lease, {"*": 0})
    assert levels is not None and levels[0] >= 5000 - 1 and levels[1] == 1_000_000
    assert await buckets.settle(lease, {"*": 0}) is None


async def test_adjust_keeps_the_reservation_of_units_not_named(buckets: LimitBuckets) -> None:
    rpm, tpm = spec("rpm", 5), spec("tpm", 1000)
    lease = new_lease()
    await buckets.acquire([rpm, tpm], [1000, 500_000], lease, 60_000)
    levels = await buckets.settle(lease, {"tpm": 200_000})
    assert levels is not None
    assert 4000 <= levels[0] < 4100 and 800_000 <= levels[1] < 805_000


async def test_an_expired_lease_keeps_its_reservation(buckets: LimitBuckets) -> None:
    tpm = spec("tpm", 1000)
    lease = new_lease()
    await buckets.acquire([tpm], [500_000], lease, 50)
    await asyncio.sleep(0.1)
    assert await buckets.settle(lease, {"tpm": 0}) is None
    states, _ = await buckets.peek([tpm])
    assert states[0].level_milli < 600_000


def _hammer(redis_url: str, limit: int, seconds: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    async def run() -> tuple[int, int, int]:
        client = redis.Redis.from_url(redis_url)
        engine = LimitBuckets(client)
        bucket, granted, first, last = spec("rpm", limit, window_seconds=1), 0, 0, 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            answer = await engine.acquire([bucket], [1000], new_lease(), 1000)
            if answer.is_granted:
                granted += 1
                first = first or answer.now_ms
                last = answer.now_ms
        await client.aclose()
        return granted, first, last

    queue.put(asyncio.run(run()))


def test_processes_hammering_one_limit_never_exceed_it(redis_url: str) -> None:
    limit, seconds, workers = 50, 1.5, 4
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [
        context.Process(target=_hammer, args=(redis_url, limit, seconds, queue))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    granted = sum(result[0] for result in results)
    first = min(result[1] for result in results if result[1])
    last = max(result[2] for result in results)
    # The capacity, plus what refilled between the first and the last grant (50 per second).
    allowed = limit + (last - first) * limit // 1000
    assert granted <= allowed
    # The limit was actually reached: the processes were refused and then let through again.
    assert granted >= allowed - limit
