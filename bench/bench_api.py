"""Query API latency: each endpoint against a seeded database, cache misses and hits.

Seeds `--traces` traces (one root and one to three LLM calls each, over 30 days) into a
throwaway PostgreSQL, then times every endpoint in-process (aiohttp test server, real Redis).
Usage:

    PYTHONPATH=. .venv/bin/python -m bench.bench_api --traces 20000 --repeat 20
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
from aiohttp.test_utils import TestClient, TestServer

from deploy.local.servers import start_postgres, start_redis, with_database
from services.api.app import create_app
from services.api.config import ApiConfig
from services.storage.migrations import apply_migrations
from tests.api import seed as dataset
from tests.storage.test_writer import write

RANGE = "from=2026-11-20T00:00:00Z&to=2026-11-27T00:00:00Z"
URLS = (
    "/v1/traces?limit=50", "/v1/traces?limit=50&sort=cost&provider=openai",
    "/v1/traces?limit=50&text=weather&" + RANGE, "/v1/calls?limit=50&has_error=true",
    "/v1/sessions?limit=50&" + RANGE, "/v1/users?limit=50&" + RANGE,
    "/v1/metrics/usage?interval=1h&group_by=model&" + RANGE,
    "/v1/metrics/latency?interval=1d&group_by=provider&" + RANGE, "/v1/stats?" + RANGE,
    "/v1/models?" + RANGE, "/v1/errors?" + RANGE,
    "/api/public/traces?limit=50&fromTimestamp=2026-11-20T00:00:00Z",
    "/api/public/metrics/daily?fromTimestamp=2026-11-20T00:00:00Z"
    "&toTimestamp=2026-11-27T00:00:00Z",
)  # fmt: skip


async def run(traces: int, repeat: int, work: Path) -> None:
    with start_postgres(work / "pg", throwaway=True) as pg, \
            start_redis(work / "redis", throwaway=True) as rds:  # fmt: skip
        with psycopg.connect(pg.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        url = with_database(pg.url, "bench")
        apply_migrations(url)
        started = time.perf_counter()
        spans = dataset.build("default", traces, seed=1, hours=24 * 7)
        for start in range(0, len(spans), 5000):
            await write(url, spans[start : start + 5000])
        print(f"seeded {len(spans)} spans in {time.perf_counter() - started:.1f} s")
        config = ApiConfig(database_url=url, redis_url=rds.url, dev_mode=True,
                           rate_limit_requests=0)  # fmt: skip
        async with TestClient(TestServer(create_app(config))) as client:
            print(f"{'endpoint':<72} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8}")
            for path in URLS:
                times = []
                for _ in range(repeat):
                    began = time.perf_counter()
                    response = await client.get(path)
                    await response.read()
                    assert response.status == 200, (path, await response.text())
                    times.append((time.perf_counter() - began) * 1000)
                ordered = sorted(times)
                p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
                print(f"{path[:72]:<72} {times[0]:9.1f} {statistics.median(times):8.1f} {p95:8.1f}")


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--traces", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        asyncio.run(run(args.traces, args.repeat, Path(work)))


if __name__ == "__main__":
    main()
