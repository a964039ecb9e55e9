"""Write throughput of the storage writer alone on plain PostgreSQL, with and without the
service-kept rollups, and the time to read percentiles from them. With --write-docs it rewrites
its section of docs/benchmarks.md. Usage:

    .venv/bin/python -m bench.bench_storage_write --spans 200000 --write-docs
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import shlex
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from bench import report
from deploy.local.servers import start_postgres, with_database
from services.storage.backend import Backend
from services.storage.migrations import apply_migrations
from services.storage.partitions import PartitionWindow, day_of_nanos, ensure_partitions
from services.storage.rows import span_rows
from services.storage.writer import write_spans
from shared.handoff import decode_entry, encode_spans
from shared.span import Cost, LLMCall, Span, Usage

MODELS = (("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4-5"),
          ("anthropic", "claude-haiku-4-5"), ("gcp.gemini", "gemini-2.5-flash"))  # fmt: skip
ENVIRONMENTS = ("prod", "staging")


def make_records(count: int, days: int, seed: int = 7) -> list[dict[str, Any]]:
    """Hand-off records of `count` counted calls over the last `days` days, 20 per trace."""
    rng = random.Random(seed)
    now_ns = time.time_ns()
    spans = []
    for index in range(count):
        start = now_ns - rng.randrange(days * 86_400 * 10**9)
        duration_ns = int(rng.lognormvariate(6.5, 1.2) * 1e6)
        provider, model = MODELS[index % len(MODELS)]
        call = LLMCall(
            convention="otel_genai", span_type="llm", provider=provider, operation="chat",
            request_model=model,
            usage=Usage(input_tokens=rng.randint(50, 20_000), output_tokens=rng.randint(1, 2000)),
            cost=Cost(total_usd=Decimal(rng.randint(1, 10**8)) / Decimal(10**12)),
            time_to_first_token_seconds=duration_ns / 4e9 if index % 2 else None,
        )  # fmt: skip
        spans.append(Span(
            project_id=f"proj-{index % 3}", trace_id=f"{index // 20 + 1:032x}",
            span_id=f"{index + 1:016x}", parent_span_id=None, name="chat", kind=3,
            start_time_unix_nano=start, end_time_unix_nano=start + duration_ns,
            resource_attributes={"service.name": f"svc-{index % 4}",
                                 "deployment.environment.name": ENVIRONMENTS[index % 2]},
            received_unix_nano=start, llm=call,
        ))  # fmt: skip
    return decode_entry(encode_spans("bench", spans)).records


async def write_all(url: str, rows: list[tuple[Any, ...]], batch: int, backend: Backend) -> float:
    """Write every batch (partitions created first, as BatchWriter does); return seconds."""
    window = PartitionWindow(lookback_days=400, ahead_days=3)
    today = dt.datetime.now(dt.UTC).date()
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        days = {day_of_nanos(row[6]) for row in rows}
        await ensure_partitions(conn, [day for day in days if window.covers(day, today)])
        started = time.perf_counter()
        for offset in range(0, len(rows), batch):
            await write_spans(conn, rows[offset : offset + batch], backend)
        return time.perf_counter() - started


def time_query(url: str, query: str, params: tuple[Any, ...], repeat: int = 5) -> float:
    """Best of `repeat` runs, in milliseconds."""
    best = float("inf")
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(repeat):
            started = time.perf_counter()
            conn.execute(query, params).fetchall()
            best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    """Run the benchmark on a throwaway PostgreSQL and print (optionally write) the numbers."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--write-docs", action="store_true",
                        help="rewrite this benchmark's section of docs/benchmarks.md")  # fmt: skip
    args = parser.parse_args()
    rows = span_rows(make_records(args.spans, args.days))
    lines: list[str] = []
    with (
        tempfile.TemporaryDirectory() as scratch,
        start_postgres(Path(scratch) / "pg", throwaway=True) as server,
    ):
        urls = {}
        for backend in (Backend.POSTGRES, Backend.TIMESCALE):
            name = f"bench_{backend.name.lower()}"
            with psycopg.connect(server.url, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
            urls[backend] = with_database(server.url, name)
            apply_migrations(urls[backend])
        versions = report.server_versions(urls[Backend.POSTGRES])
        # The TIMESCALE statement on plain PostgreSQL: the same write without the rollup folds.
        for backend, label in ((Backend.TIMESCALE, "spans + traces only"),
                               (Backend.POSTGRES, "spans + traces + rollups")):  # fmt: skip
            seconds = asyncio.run(write_all(urls[backend], rows, args.batch, backend))
            lines.append(f"{label:28} {args.spans / seconds:9.0f} spans/s ({args.spans} spans"
                         f" over {args.days} days, batches of {args.batch})")  # fmt: skip
            print(lines[-1], flush=True)
        lines += read_times(urls[Backend.POSTGRES], args.days)
    print("\n".join(lines[2:]))
    if args.write_docs:
        report.write_section("storage-writer", markdown(args, versions, lines))
        print(f"wrote {report.DOCS}")


def markdown(args: argparse.Namespace, versions: str, lines: list[str]) -> str:
    """This benchmark's section of docs/benchmarks.md."""
    output = "\n".join(lines)
    return f"""### Storage writer alone (`bench/bench_storage_write.py`)

Measured {report.today()} at {report.git_commit()} on {report.machine()}; {versions}.
`python -m bench.bench_storage_write {shlex.join(sys.argv[1:])}`: counted LLM calls, 20 per
trace, at random times over the days (nearly every call opens new rollup rows: the worst case).

```
{output}
```
"""


def read_times(url: str, days: int) -> list[str]:
    """Rollup sizes and the time to read percentiles, from rollups and from raw spans."""
    lines = []
    with psycopg.connect(url) as conn:
        for relation in ("usage_1m", "usage_1h", "usage_1d", "latency_hist_1m",
                         "latency_hist_1h", "latency_hist_1d"):  # fmt: skip
            row = conn.execute(f"SELECT count(*) FROM {relation}").fetchone()
            lines.append(f"{relation:28} {row[0] if row else 0:9} rows")
    now = dt.datetime.now(dt.UTC)
    query = "SELECT * FROM latency_percentiles('proj-0', 'duration', %s, %s)"
    for label, start in ((f"{days} days", now - dt.timedelta(days=days)),
                         ("last 6 h 17 min", now - dt.timedelta(hours=6, minutes=17))):  # fmt: skip
        ms = time_query(url, query, (start, now))
        lines.append(f"p50/p95/p99 over {label:17} {ms:6.1f} ms")
    raw = (
        "SELECT percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ms)"
        " FROM spans WHERE project_id = 'proj-0' AND llm_is_counted AND start_time >= %s"
    )
    start = now - dt.timedelta(days=days)
    lines.append(f"same from raw spans, {days} days   {time_query(url, raw, (start,)):6.1f} ms")
    return lines


if __name__ == "__main__":
    main()
