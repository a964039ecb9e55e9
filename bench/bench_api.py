"""Query API latency at scale: the standard calls over `--spans` stored spans, cold and cached.

Seeds a throwaway PostgreSQL through the storage writer (bench/seed_scale.py: real pipeline
output, COPY, upsert, traces and rollups folded as in production), then times each call
in-process (aiohttp test server, real Redis). Cold = the API's Redis cache flushed before every
request (PostgreSQL's own buffers stay warm, as on a live server); cached = the same request
again with the cache kept. Different trace and session ids are used in turn. Also reports the
seeding rate and bytes per span on disk. Usage:

    .venv/bin/python -m bench.bench_api --spans 1000000 --repeat 40 --write-docs

With `--data-dir DIR` the PostgreSQL cluster lives in DIR and is kept: a later run with the same
DIR applies new migrations and times the calls again without seeding (10 M spans take half an
hour to seed on 2 cores); the seeding figures reported are those of the run that seeded.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from psycopg import sql

from bench import report, seed_scale
from bench.load import percentile
from bench.storage_size import database_bytes, table_bytes
from deploy.local.servers import start_postgres, start_redis, with_database
from services.api.app import create_app
from services.api.config import ApiConfig
from services.storage.migrations import apply_migrations


@dataclass(frozen=True)
class Query:
    """One standard call; `path` gets the request's number (to pick a different id)."""

    name: str
    route: str
    path: Callable[[int], str]
    is_cached: bool  # whether the API keeps its answers in Redis


@dataclass
class Timing:
    """Milliseconds of each cold and each cached request, and non-200 answers."""

    cold_ms: list[float] = field(default_factory=list)
    cached_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def queries(trace_ids: list[str], session_ids: list[str], model: str, user: str) -> list[Query]:
    """The standard calls over a closed 30-day range ending at the last whole hour."""
    end = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).replace(
        minute=0, second=0, microsecond=0
    )
    span = f"from={(end - dt.timedelta(days=30)).isoformat()}&to={end.isoformat()}"
    span = span.replace("+00:00", "Z")
    last_week = f"from={(end - dt.timedelta(days=7)).isoformat()}&to={end.isoformat()}"
    last_week = last_week.replace("+00:00", "Z")
    return [
        Query("trace list, newest 50", "/v1/traces", lambda _: "/v1/traces?limit=50", False),
        Query("trace list, model + errors, 7 days", "/v1/traces",
              lambda _: f"/v1/traces?limit=50&model={model}&has_error=true&{last_week}", False),
        Query("trace list, one user, by cost", "/v1/traces",
              lambda _: f"/v1/traces?limit=50&user={user}&sort=cost", False),
        Query("trace detail", "/v1/traces/{trace_id}",
              lambda i: f"/v1/traces/{trace_ids[i % len(trace_ids)]}", False),
        Query("session detail", "/v1/sessions/{session_id}",
              lambda i: f"/v1/sessions/{session_ids[i % len(session_ids)]}", False),
        Query("usage by model, 30 days, daily", "/v1/metrics/usage",
              lambda _: f"/v1/metrics/usage?interval=1d&group_by=model&{span}", True),
        Query("latency p50/p95/p99 by model, 30 days", "/v1/metrics/latency",
              lambda _: f"/v1/metrics/latency?interval=1d&group_by=model&{span}", True),
        Query("totals, 30 days", "/v1/stats", lambda _: f"/v1/stats?{span}", True),
        Query("sessions list, 7 days", "/v1/sessions",
              lambda _: f"/v1/sessions?limit=50&{last_week}", False),
    ]  # fmt: skip


def sample_ids(url: str, count: int) -> tuple[list[str], list[str], str, str]:
    """Trace ids and session ids to fetch, a model and a user to filter by."""
    with psycopg.connect(url) as conn:
        traces = [
            r[0]
            for r in conn.execute(
                "SELECT trace_id FROM traces TABLESAMPLE SYSTEM (1) LIMIT %s", (count,)
            )
        ]
        sessions = [
            r[0]
            for r in conn.execute(
                "SELECT session_id FROM traces TABLESAMPLE SYSTEM (1)"
                " WHERE session_id IS NOT NULL LIMIT %s",
                (count,),
            )
        ]
        row = conn.execute(
            "SELECT request_model FROM spans WHERE llm_is_counted LIMIT 1"
        ).fetchone()
        user = conn.execute(
            "SELECT user_id FROM traces WHERE user_id IS NOT NULL LIMIT 1"
        ).fetchone()
    assert traces and sessions and row and user, "the seeded database is empty"
    return traces, sessions, str(row[0]), str(user[0])  # fmt: skip


async def time_queries(
    config: ApiConfig, all_queries: list[Query], repeat: int
) -> dict[str, Timing]:
    """Each query `repeat` times cold (cache flushed first), then `repeat` times cached."""
    timings: dict[str, Timing] = {}
    cache = aioredis.Redis.from_url(config.redis_url)
    async with TestClient(TestServer(create_app(config))) as client:

        async def timed(path: str, timing: Timing) -> float:
            began = time.perf_counter()
            response = await client.get(path)
            await response.read()
            if response.status != 200:
                timing.errors.append(f"{response.status} {path}")
            return (time.perf_counter() - began) * 1000

        for query in all_queries:
            timing = timings[query.name] = Timing()
            for index in range(repeat):
                await cache.flushdb()
                timing.cold_ms.append(await timed(query.path(index), timing))
            for index in range(repeat):
                timing.cached_ms.append(await timed(query.path(index), timing))
    await cache.aclose()
    return timings


def sizes(url: str) -> dict[str, float]:
    """Rows and bytes on disk of the spans, traces and rollup tables, and of the database."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*), current_setting('default_toast_compression')"
                           " FROM spans").fetchone()  # fmt: skip
        traces = conn.execute("SELECT count(*) FROM traces").fetchone()
    assert row and traces
    spans = int(row[0])
    rollups = sum(table_bytes(url, f"{kind}_{level}") for kind in ("usage", "latency_hist")
                  for level in ("1m", "1h", "1d"))  # fmt: skip
    return {
        "spans": spans, "traces": int(traces[0]), "compression": row[1],
        "spans_bytes": table_bytes(url, "spans"), "traces_bytes": table_bytes(url, "traces"),
        "rollup_bytes": rollups, "database_bytes": database_bytes(url),
    }  # fmt: skip


# In a kept cluster's directory: [spans seeded, seconds it took].
SEED_RECORD = "bench-seed.json"


async def run(args: argparse.Namespace, work: Path) -> dict[str, object]:
    """Seed (unless a kept cluster was seeded), time, measure sizes; return it all."""
    kept = args.data_dir is not None
    with start_postgres(args.data_dir or work / "pg", throwaway=not kept) as pg, \
            start_redis(work / "redis", throwaway=True) as rds:  # fmt: skip
        url = with_database(pg.url, "bench")
        record = (args.data_dir / SEED_RECORD) if kept else work / SEED_RECORD
        is_seeded = record.exists()
        if not is_seeded:
            create_database(pg.url, args.toast_compression)
        # A kept database gets the migrations added since it was seeded.
        if apply_migrations(url) and is_seeded:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")  # as autovacuum would have after them
        if not is_seeded:
            record.write_text(json.dumps(await _seed(url, args)))
        inserted, seed_seconds = json.loads(record.read_text())
        trace_ids, session_ids, model, user = sample_ids(url, 50)
        config = ApiConfig(database_url=url, redis_url=rds.url, dev_mode=True,
                           rate_limit_requests=0, log_level="WARNING")  # fmt: skip
        all_queries = queries(trace_ids, session_ids, model, user)
        timings = await time_queries(config, all_queries, args.repeat)
        versions = report.server_versions(url, rds.url)
        return {"inserted": inserted, "seed_seconds": seed_seconds, "timings": timings,
                "queries": all_queries, "sizes": sizes(url), "versions": versions}  # fmt: skip


def create_database(server_url: str, toast_compression: str) -> None:
    """Create the database (dropping one a failed run left) with the chosen TOAST compression."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench")
        conn.execute("CREATE DATABASE bench")
        # Columns without their own setting compress with the session's default.
        conn.execute(sql.SQL("ALTER DATABASE bench SET default_toast_compression = {}")
                     .format(sql.Literal(toast_compression)))  # fmt: skip


async def _seed(url: str, args: argparse.Namespace) -> tuple[int, float]:
    inserted, seed_seconds = await seed_scale.seed(url, args.spans, days=args.days)
    print(f"seeded {inserted:,} spans in {seed_seconds:.0f} s"
          f" ({inserted / seed_seconds:,.0f} spans/s)", flush=True)  # fmt: skip
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # as autovacuum would have by now on a live server
    return inserted, seed_seconds


def rows(result: dict[str, object]) -> list[list[str]]:
    """One table row per query."""
    table = []
    for query in result["queries"]:  # type: ignore[attr-defined]
        t: Timing = result["timings"][query.name]  # type: ignore[index]
        cached = (f"{percentile(t.cached_ms, 0.5):.1f} / {percentile(t.cached_ms, 0.95):.1f}"
                  + ("" if query.is_cached else " (not cached)"))  # fmt: skip
        table.append([
            query.name, f"`{query.route}`",
            f"{t.cold_ms[0]:.1f}", f"{statistics.median(t.cold_ms):.1f} / "
            f"{percentile(t.cold_ms, 0.95):.1f}", cached, str(len(t.errors)),
        ])  # fmt: skip
    return table


def latency_rows(result: dict[str, object]) -> list[tuple[str, float, float, float, float]]:
    """(call, cold p50, cold p95, cached p50, cached p95) in ms, for the plot."""
    timings: dict[str, Timing] = result["timings"]  # type: ignore[assignment]
    return [(name, percentile(t.cold_ms, 0.5), percentile(t.cold_ms, 0.95),
             percentile(t.cached_ms, 0.5), percentile(t.cached_ms, 0.95))
            for name, t in timings.items()]  # fmt: skip


HEADER = ("call", "path", "first ms", "cold p50 / p95 ms", "cached p50 / p95 ms", "non-200")


def markdown(args: argparse.Namespace, result: dict[str, object]) -> str:
    """This run's section of docs/benchmarks.md."""
    s: dict[str, float] = result["sizes"]  # type: ignore[assignment]
    spans = max(1, int(s["spans"]))
    n = report.number
    compression = "" if args.toast_compression == "pglz" else f", {args.toast_compression}"
    return f"""## Query API at {n(s["spans"])} spans{compression} (`bench/bench_api.py`)

Measured {report.today()} at {report.git_commit()} on {report.machine()}; {result["versions"]}.
`python -m bench.bench_api {shlex.join(sys.argv[1:])}`

Seeded {n(result["inserted"])} spans ({n(s["traces"])} traces over {args.days} days, sessions of
{seed_scale.TURNS_PER_SESSION} turns, {seed_scale.USERS:,} users) through the storage writer in
{n(result["seed_seconds"])} s ({n(result["inserted"] / result["seed_seconds"])} spans/s with
traces and rollups, two concurrent writers), then `VACUUM ANALYZE`. Each call {args.repeat}
times cold (API cache flushed before each request; PostgreSQL's buffers warm) and
{args.repeat} times cached; "first" is the very first request, which also pays for the process's
first use of its clients. Percentiles interpolate between ranks (`statistics.quantiles`,
inclusive), as the ingest benchmarks do. Calls without "(not cached)" keep their answers in Redis.

{report.table(HEADER, rows(result))}

![API latency, cold and cached](img/{section_name(args)}-latency.svg)

On disk ({s["compression"]} TOAST compression; pglz is PostgreSQL's default):
{n(s["spans_bytes"] / spans)} bytes per span for the spans table with its indexes and TOAST,
{n(s["traces_bytes"] / spans)} for the traces table, {n(s["rollup_bytes"] / spans, 1)} for the
rollups, {n(s["database_bytes"] / spans)} for the whole database
({s["database_bytes"] / 2**30:.2f} GiB).
"""


def section_name(args: argparse.Namespace) -> str:
    """The section of docs/benchmarks.md (and the picture) of this size and compression."""
    suffix = "" if args.toast_compression == "pglz" else f"-{args.toast_compression}"
    return f"query-{args.spans}{suffix}"


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--toast-compression", choices=("pglz", "lz4"), default="lz4",
                        help="TOAST compression of the seeded database (storage's default: "
                             "lz4, STORAGE_TOAST_COMPRESSION)")  # fmt: skip
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the PostgreSQL cluster here; seeded once, reused after",
    )
    parser.add_argument("--write-docs", action="store_true",
                        help="rewrite this benchmark's section of docs/benchmarks.md")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llmobs-query-") as scratch:
        result = asyncio.run(run(args, Path(scratch)))
    print(report.table(HEADER, rows(result)))
    print(result["sizes"])
    if args.write_docs:
        from bench import plot  # matplotlib: the `bench` extra, needed only for the picture

        image = report.ROOT / "docs" / "img" / f"{section_name(args)}-latency.svg"
        image.parent.mkdir(parents=True, exist_ok=True)
        plot.plot_query_latency(latency_rows(result), image,
                                f"API latency at {result['sizes']['spans']:,} spans")  # type: ignore[index]  # fmt: skip
        report.write_section(section_name(args), markdown(args, result))
        print(f"wrote {report.DOCS}")


if __name__ == "__main__":
    main()
