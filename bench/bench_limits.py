"""Throughput and latency of usage-limit leases against a local Redis:
`python -m bench.bench_limits [--seconds 10] [--concurrency 16] [--users 1000]`.

Each operation is what an application does around one LLM call: acquire (rpm and tpm of its
user, cascading to the project's tpm: three buckets in one Lua call) then adjust with the
actual tokens (a second Lua call). Latency is per acquire+adjust pair, measured in-process
with redis-py's asyncio client (no HTTP: the API adds its own request handling on top).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import redis.asyncio as redis

from deploy.local.servers import start_redis
from shared.limit_buckets import LimitBuckets
from shared.usage_limits import Entity, applicable, lease_key, parse_defaults

# Generous limits, so that the bench measures the grants' path (refusals are cheaper).
RULES = parse_defaults("user:rpm=1000000,tpm=1000000000;project:tpm=1000000000", 0)


async def worker(
    buckets: LimitBuckets, users: int, deadline: float, latencies: list[float], seed: int
) -> None:
    rng = random.Random(seed)
    while time.perf_counter() < deadline:
        entity = Entity("user", f"u{rng.randrange(users)}")
        specs = applicable("bench", RULES, entity, "gpt-4o", True)
        started = time.perf_counter()
        costs = [1000 if spec.unit == "rpm" else 2_000_000 for spec in specs]
        lease = lease_key("bench", uuid.uuid4().hex)
        acquired = await buckets.acquire(specs, costs, lease, 60_000)
        assert acquired.is_granted
        await buckets.settle(lease, {"tpm": rng.randrange(500, 4000) * 1000})
        latencies.append(time.perf_counter() - started)


async def run(url: str, seconds: float, concurrency: int, users: int) -> None:
    client = redis.Redis.from_url(url, max_connections=concurrency + 4)
    buckets = LimitBuckets(client)
    await worker(buckets, users, time.perf_counter() + 1.0, [], 0)  # warm-up: scripts loaded
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(worker(buckets, users, deadline, latencies, seed) for seed in range(1, concurrency + 1))
    )
    elapsed = time.perf_counter() - started
    await client.aclose()
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"acquire+adjust: {len(latencies)} pairs in {elapsed:.1f} s = "
        f"{len(latencies) / elapsed:,.0f} pairs/s ({concurrency} concurrent, {users} users); "
        f"latency p50 {quantiles[49] * 1000:.2f} ms, p99 {quantiles[98] * 1000:.2f} ms"
    )


def main() -> None:
    """Start a throwaway local Redis and run the bench against it (or against --redis-url)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--redis-url", default="")
    options = parser.parse_args()
    if options.redis_url:
        asyncio.run(run(options.redis_url, options.seconds, options.concurrency, options.users))
        return
    with (
        tempfile.TemporaryDirectory() as directory,
        start_redis(Path(directory) / "redis", throwaway=True) as server,
    ):
        asyncio.run(run(server.url, options.seconds, options.concurrency, options.users))


if __name__ == "__main__":
    main()
