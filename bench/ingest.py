"""Ingest benchmark: LLM-shaped traces over OTLP gRPC and HTTP into the running stack.

Reports end-to-end spans/s (first send to last row queryable), accepted spans/s, refusals,
export latency and freshness percentiles, CPU and peak RSS per service. With --write-docs it
rewrites its section of docs/benchmarks.md (one for flat out, one for a fixed rate). Usage:

    .venv/bin/python -m bench.ingest --spans 100000 --concurrency 8          # saturation
    .venv/bin/python -m bench.ingest --spans 50000 --rate 5000               # fixed load
    .venv/bin/python -m bench.ingest --spans 60000 --concurrency 64          # overload
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from bench import report
from bench.load import prepare
from bench.measure import Measurement, measure
from bench.procstat import pid_from_file
from bench.sut.observatory import Observatory
from deploy.local.servers import start_postgres, start_redis, with_database

DEFAULT_EXPORTERS = 8


def freshness(database_url: str) -> tuple[float, float]:
    """p50 and p99 of receipt-to-commit, in seconds, over every stored span."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s),"
            " percentile_cont(0.99) WITHIN GROUP (ORDER BY s)"
            " FROM (SELECT extract(epoch FROM stored_at - received_at) AS s FROM spans) t"
        ).fetchone()
    assert row is not None
    return float(row[0]), float(row[1])


def run(args: argparse.Namespace) -> tuple[Measurement, dict[str, Any]]:
    """Start throwaway servers and the stack, send, measure, stop; return the numbers."""
    bodies = prepare(args.spans, args.seed)
    with tempfile.TemporaryDirectory(prefix="llmobs-bench-") as scratch:
        work = Path(scratch)
        with start_postgres(work / "pg", throwaway=True) as pg, \
                start_redis(work / "redis", throwaway=True) as rds:  # fmt: skip
            extra = {"versions": report.server_versions(with_database(pg.url, "postgres"),
                                                        rds.url)}  # fmt: skip
            shared = {"postgresql": pid_from_file(pg.data_dir / "postmaster.pid"),
                      "redis": pid_from_file(rds.data_dir / "redis.pid")}  # fmt: skip
            system = Observatory(pg.url, rds.url, work / "stack", "bench", args.collectors)
            system.start()
            try:
                result = measure(system, bodies, args.concurrency, args.rate, args.timeout, shared)
                extra["freshness"] = freshness(system.database_url)
            finally:
                system.stop()
    return result, extra


def summary(result: Measurement, extra: dict[str, Any]) -> dict[str, Any]:
    """Every figure by name, as printed."""
    return {
        "spans": result.spans_sent, "accepted": result.stats.accepted_spans,
        "stored": result.stored, "refused_requests": result.stats.refused,
        "failed_requests": result.stats.failed, "send_seconds": result.send_seconds,
        "end_to_end_seconds": result.stored_seconds,
        "accepted_per_second": result.accepted_per_second,
        "end_to_end_per_second": result.end_to_end_per_second,
        "export_p50_ms": result.export_ms(0.5), "export_p99_ms": result.export_ms(0.99),
        "freshness_p50_s": extra["freshness"][0], "freshness_p99_s": extra["freshness"][1],
        "services": {name: (round(result.cpu_seconds[name], 2), round(result.peak_rss_mb[name]))
                     for name in result.cpu_seconds},
        "shared_cpu_seconds": {k: round(v, 2) for k, v in result.shared_cpu_seconds.items()},
    }  # fmt: skip


def markdown(args: argparse.Namespace, result: Measurement, extra: dict[str, Any]) -> str:
    """This run's section of docs/benchmarks.md."""
    n = report.number
    kind = f"fixed load, {args.rate:,.0f} spans/s" if args.rate else "flat out (saturation)"
    if args.collectors > 1:
        kind += f", {args.collectors} collector processes"
    if args.concurrency != DEFAULT_EXPORTERS:
        kind += f", {args.concurrency} exporters"
    per_service = ", ".join(
        f"{name} {result.cpu_seconds[name]:.1f} s / {result.peak_rss_mb[name]:.0f} MB"
        for name in result.cpu_seconds
    )
    row = [
        n(result.spans_sent), n(result.stats.accepted_spans), n(result.stats.refused),
        n(result.accepted_per_second), n(result.end_to_end_per_second),
        f"{n(result.export_ms(0.5))} / {n(result.export_ms(0.99))} ms",
        f"{extra['freshness'][0]:.2f} / {extra['freshness'][1]:.2f} s", per_service,
        n(result.shared_cpu_seconds.get("postgresql"), 1),
        n(result.shared_cpu_seconds.get("redis"), 1),
    ]  # fmt: skip
    header = ("spans", "accepted", "refused requests", "accepted/s", "end to end/s",
              "export p50 / p99", "freshness p50 / p99", "CPU s / peak RSS per service",
              "PostgreSQL CPU s", "Redis CPU s")  # fmt: skip
    return f"""### Ingest, {kind} (`bench/ingest.py`)

Measured {report.today()} at {report.git_commit()} on {report.machine()}; {extra["versions"]}.
`python -m bench.ingest {shlex.join(sys.argv[1:])}`

{report.table(header, [row])}
"""


def main() -> None:
    """Parse arguments, run, print the numbers (and write them into the docs if asked)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_EXPORTERS,
                        help="concurrent exporters, half gRPC and half HTTP")  # fmt: skip
    parser.add_argument("--rate", type=float, default=None, help="spans/s; default: flat out")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--collectors",
        type=int,
        default=1,
        help="collector processes sharing the OTLP ports (COLLECTOR_REUSE_PORT)",
    )
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds to wait for storage after the last acceptance")  # fmt: skip
    parser.add_argument("--write-docs", action="store_true",
                        help="rewrite this run's section of docs/benchmarks.md")  # fmt: skip
    args = parser.parse_args()
    result, extra = run(args)
    for key, value in summary(result, extra).items():
        print(f"{key}: {value}")
    if args.write_docs:
        section = "ingest-fixed" if args.rate else "ingest-saturation"
        if args.collectors > 1:
            section += f"-{args.collectors}-collectors"
        if args.concurrency != DEFAULT_EXPORTERS:
            section += f"-{args.concurrency}-exporters"
        report.write_section(section, markdown(args, result, extra))
        print(f"wrote {report.DOCS}")


if __name__ == "__main__":
    main()
