"""LLM Observatory and Arize Phoenix side by side: the same prepared OTLP requests (same
generator, seed, concurrency and gRPC/HTTP mix) sent to each system in turn, in one run, both on
the same PostgreSQL server. Reports accepted/s, end-to-end/s, drain rate, export latency,
refusals, CPU and memory, bytes per span; with --write-docs rewrites its section of
docs/benchmarks.md and the plots under docs/img/. Usage:

    .venv/bin/python -m bench.side_by_side --spans 20000 --concurrency 8 --write-docs
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from bench import report
from bench.load import prepare
from bench.measure import Measurement, measure
from bench.procstat import pid_from_file
from bench.storage_size import bytes_per_span, database_bytes
from bench.sut import SystemUnderTest
from bench.sut.observatory import Observatory
from bench.sut.phoenix import Phoenix, ensure_venv
from deploy.local.servers import LocalServer, start_postgres, start_redis, with_database

IMAGES = report.ROOT / "docs" / "img"
SYSTEMS = ("observatory", "phoenix")


Builders = dict[str, Callable[[], SystemUnderTest]]


def _builders(pg: LocalServer, redis_url: str, work: Path) -> Builders:
    return {
        "observatory": lambda: Observatory(pg.url, redis_url, work / "observatory", "observatory"),
        "phoenix": lambda: Phoenix(pg.url, work / "phoenix", "phoenix"),
    }


def run_one(
    system: SystemUnderTest, bodies: list[tuple[bytes, int]], args: argparse.Namespace,
    shared_pids: dict[str, int],
) -> tuple[Measurement, dict[str, float]]:  # fmt: skip
    """Start the system, measure it under the load, read its sizes on disk, stop it."""
    system.start()
    try:
        empty = database_bytes(system.database_url)
        result = measure(system, bodies, args.concurrency, args.rate, args.timeout, shared_pids)
        sizes = {
            "spans_bytes_per_span": bytes_per_span(system.database_url, result.stored),
            "database_bytes_per_span": (database_bytes(system.database_url) - empty)
            / max(1, result.stored),
        }
    finally:
        system.stop()
    return result, sizes


def figures(results: list[tuple[Measurement, dict[str, float]]]) -> list[list[str]]:
    """One row per figure, one column per system."""
    n = report.number

    def row(label: str, value: Callable[[Measurement, dict[str, float]], str]) -> list[str]:
        return [label, *(value(m, sizes) for m, sizes in results)]

    return [
        row("version", lambda m, _: m.version),
        row("spans sent", lambda m, _: n(m.spans_sent)),
        row("spans accepted", lambda m, _: n(m.stats.accepted_spans)),
        row("requests refused (retried) / failed",
            lambda m, _: f"{n(m.stats.refused)} / {n(m.stats.failed)}"),
        row("**accepted/s** (first to last export)", lambda m, _: n(m.accepted_per_second)),
        row("spans stored", lambda m, _: n(m.stored) + (
            "" if m.stored_seconds is not None else " (timed out)")),
        row("**end to end/s** (first export to last span stored)",
            lambda m, _: n(m.end_to_end_per_second)),
        row("seconds from the first export to all stored",
            lambda m, _: n(m.stored_seconds, 1)),
        row("drain after the last acceptance",
            lambda m, _: f"{n(m.drain_seconds, 1)} s at {n(m.drain_per_second)} spans/s"),
        row("export latency p50 / p99", lambda m, _: (
            f"{n(m.export_ms(0.5))} / {n(m.export_ms(0.99))} ms")),
        row("server CPU s (own processes)", lambda m, _: n(sum(m.cpu_seconds.values()), 1)),
        row("server CPU ms per span", lambda m, _: n(
            1000 * sum(m.cpu_seconds.values()) / max(1, m.stored), 2)),
        row("PostgreSQL CPU s (all backends)",
            lambda m, _: n(m.shared_cpu_seconds.get("postgresql"), 1)),
        row("server peak RSS MB (sum)", lambda m, _: n(sum(m.peak_rss_mb.values()))),
        row("bytes per span: spans table with indexes and TOAST",
            lambda _, sizes: n(sizes["spans_bytes_per_span"])),
        row("bytes per span: growth of the whole database",
            lambda _, sizes: n(sizes["database_bytes_per_span"])),
        row("machine load average (1 min) when the wait ended",
            lambda m, _: n(m.load_average, 2)),
    ]  # fmt: skip


def header(results: list[tuple[Measurement, dict[str, float]]]) -> list[str]:
    """The figure column, then one column per system."""
    return ["", *(m.system for m, _ in results)]


def markdown(results: list[tuple[Measurement, dict[str, float]]], context: dict[str, str]) -> str:
    """The section of docs/benchmarks.md: how it was run, the table, the per-process figures."""
    processes = report.table(
        ("system", "process", "CPU s during the load", "peak RSS MB"),
        [[m.system, name, report.number(cpu, 1), report.number(m.peak_rss_mb[name])]
         for m, _ in results for name, cpu in m.cpu_seconds.items()],
    )  # fmt: skip
    return f"""## Side by side with Arize Phoenix (`bench/side_by_side.py`)

Measured {context["date"]} at {context["commit"]} on {context["machine"]};
{context["versions"]}. `{context["command"]}`

The same prepared requests (generator of `bench/load.py`, one seed) went to each system in turn
within one run: {context["load"]}. Both systems used the same throwaway PostgreSQL server
(fsync off), each its own database; Phoenix ran `phoenix serve` from its own virtual
environment (`arize-phoenix[pg]`, PostgreSQL backend, defaults otherwise). Stored = rows
counted in each system's `spans` table, sampled every 0.25 s until every accepted span was
stored or {context["timeout"]} s after the last acceptance. Server CPU = the system's own
processes during the load and drain (LLM Observatory: collector + storage + api; Phoenix: its
one process); PostgreSQL CPU = every backend of the shared server over the same interval.
Bytes per span = spans table with its indexes and TOAST / growth of the whole database
(LLM Observatory's includes its traces and rollup tables).

{report.table(header(results), figures(results))}

{processes}

![Spans accepted and stored over time](img/side-by-side-throughput.svg)

![Export latency percentiles](img/side-by-side-export-latency.svg)

Raw samples and latencies of this run: [img/side-by-side.json](img/side-by-side.json).
"""


def main() -> None:
    """Parse the arguments, run every system, print (and optionally write) the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=None, help="spans/s; default: flat out")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds to wait for storage after the last acceptance")  # fmt: skip
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help=f"comma-separated, in order, of {', '.join(SYSTEMS)}")  # fmt: skip
    parser.add_argument("--write-docs", action="store_true",
                        help="rewrite the section of docs/benchmarks.md and the plots")  # fmt: skip
    args = parser.parse_args()
    names = [name for name in args.systems.split(",") if name]
    if unknown := set(names) - set(SYSTEMS):
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    if "phoenix" in names:
        ensure_venv()  # before the clock: a first run installs it
    context = {"date": report.today(), "commit": report.git_commit(),
               "machine": report.machine(), "timeout": f"{args.timeout:.0f}",
               "command": "python -m bench.side_by_side " + shlex.join(sys.argv[1:])}  # fmt: skip
    bodies = prepare(args.spans, args.seed)
    grpc_share = (args.concurrency + 1) // 2
    context["load"] = (
        f"{sum(c for _, c in bodies):,} spans in {len(bodies)} requests of up to 512 spans,"
        f" {args.concurrency} concurrent exporters ({grpc_share} gRPC, "
        f"{args.concurrency - grpc_share} HTTP/protobuf), "
        + (f"{args.rate:,.0f} spans/s" if args.rate else "flat out")
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="llmobs-side-") as scratch:
        work = Path(scratch)
        with start_postgres(work / "pg", throwaway=True) as pg, \
                start_redis(work / "redis", throwaway=True) as rds:  # fmt: skip
            context["versions"] = report.server_versions(with_database(pg.url, "postgres"), rds.url)
            shared = {"postgresql": pid_from_file(pg.data_dir / "postmaster.pid"),
                      "redis": pid_from_file(rds.data_dir / "redis.pid")}  # fmt: skip
            builders = _builders(pg, rds.url, work)
            for name in names:
                print(f"measuring {name}...", flush=True)
                results.append(run_one(builders[name](), bodies, args, shared))
    print(report.table(header(results), figures(results)))
    if args.write_docs:
        from bench import plot  # matplotlib: the `bench` extra, needed only for the pictures

        IMAGES.mkdir(parents=True, exist_ok=True)
        measured = [m for m, _ in results]
        plot.plot_throughput(measured, IMAGES / "side-by-side-throughput.svg")
        plot.plot_export_latency(measured, IMAGES / "side-by-side-export-latency.svg")
        raw = [{"system": m.system, "version": m.version, "samples": [asdict(s) for s in m.samples],
                "export_latencies_ms": m.stats.latencies_ms, "cpu_seconds": m.cpu_seconds,
                "peak_rss_mb": m.peak_rss_mb, "shared_cpu_seconds": m.shared_cpu_seconds,
                **sizes} for m, sizes in results]  # fmt: skip
        (IMAGES / "side-by-side.json").write_text(json.dumps({**context, "runs": raw}, indent=1))
        report.write_section("side-by-side", markdown(results, context))
        print(f"wrote {report.DOCS} and {IMAGES}")


if __name__ == "__main__":
    main()
