"""Re-pricing on plain PostgreSQL: a dry run and an applied run over one project's window,
every call's price changed by an override: `python -m bench.bench_repricing`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

import psycopg

from bench.bench_storage_write import make_records, write_all
from deploy.local.servers import start_postgres, with_database
from services.storage.backend import Backend
from services.storage.migrations import apply_migrations
from services.storage.repricing_store import RepricingRequest, run_repricing
from services.storage.rows import span_rows
from shared.db import open_pool

# One override matching every model of the bench's calls: each call's cost changes.
OVERRIDE = """
INSERT INTO projects (project_id, name) VALUES ('proj-0', 'bench') ON CONFLICT DO NOTHING;
INSERT INTO model_price_overrides (project_id, model, match, input_usd_per_million_tokens,
                                   output_usd_per_million_tokens, version)
VALUES ('proj-0', '.*', 'regex', 0.7, 2.9, 'bench')
"""


async def reprice(url: str, days: int, is_dry_run: bool) -> tuple[float, dict[str, object]]:
    """One run over the last `days` days of proj-0; return (seconds, audit row)."""
    pool = await open_pool(url, 1, 2)
    try:
        end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
        request = RepricingRequest("proj-0", end - dt.timedelta(days=days), end, is_dry_run,
                                   "bench")  # fmt: skip
        started = time.perf_counter()
        run = await run_repricing(pool, request, rollup_1m_days=7)
        return time.perf_counter() - started, run
    finally:
        await pool.close()


def main() -> None:
    """Run the benchmark on a throwaway PostgreSQL and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spans", type=int, default=300_000)
    parser.add_argument("--days", type=int, default=2)
    args = parser.parse_args()
    rows = span_rows(make_records(args.spans, args.days))
    with (
        tempfile.TemporaryDirectory() as scratch,
        start_postgres(Path(scratch) / "pg", throwaway=True) as server,
    ):
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench_repricing")
        url = with_database(server.url, "bench_repricing")
        apply_migrations(url)
        asyncio.run(write_all(url, rows, 5000, Backend.POSTGRES))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(OVERRIDE)
        for is_dry_run in (True, False):
            seconds, run = asyncio.run(reprice(url, args.days, is_dry_run))
            examined = int(str(run["spans_examined"]))
            print(f"{'dry run' if is_dry_run else 'applied':8} {examined} calls examined,"
                  f" {run['spans_changed']} changed, in {seconds:.2f} s"
                  f" ({examined / seconds:.0f} calls/s)")  # fmt: skip


if __name__ == "__main__":
    main()
