"""Ingest benchmark: LLM-shaped traces over OTLP gRPC and HTTP into the running stack.

Reports end-to-end spans/s (first send to last row queryable), accepted spans/s, refusals,
export latency and freshness percentiles, CPU and peak RSS per service. Usage:

    .venv/bin/python -m bench.ingest --spans 100000 --concurrency 8          # saturation
    .venv/bin/python -m bench.ingest --spans 50000 --rate 5000               # fixed load
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import psycopg

from bench.procstat import usage
from deploy.devutils.workload import TraceFactory
from deploy.local.servers import start_postgres, start_redis, with_database
from services.storage.migrations import apply_migrations
from tests.e2e.services import Stack, build_stack

METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


@dataclass
class SendStats:
    """What the senders saw."""

    accepted_spans: int = 0
    refused: int = 0
    failed: int = 0
    latencies_ms: list[float] = field(default_factory=list)


def prepare(spans: int, seed: int) -> list[tuple[bytes, int]]:
    """Serialized requests (and their span counts) totalling about `spans` spans."""
    factory = TraceFactory(seed)
    bodies: list[tuple[bytes, int]] = []
    total = 0
    traces = max(1, spans // 4)
    for request in factory.requests(traces, time.time_ns(), 2_000_000):
        count = sum(len(s.spans) for rs in request.resource_spans for s in rs.scope_spans)
        bodies.append((request.SerializeToString(), count))
        total += count
    return bodies


async def _send_http(session: aiohttp.ClientSession, url: str, body: bytes) -> tuple[int, float]:
    async with session.post(
        url, data=body, headers={"Content-Type": "application/x-protobuf"}
    ) as r:
        await r.read()
        return r.status, float(r.headers.get("Retry-After", "1"))


async def _send_grpc(channel: grpc.aio.Channel, body: bytes) -> tuple[int, float]:
    try:
        await channel.unary_unary(METHOD)(body, timeout=30)
    except grpc.aio.AioRpcError as exc:
        code = exc.code()
        retryable = code in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE)
        return (429 if retryable else 500), 1.0
    return 200, 0.0


async def send_all(
    stack: Stack, bodies: list[tuple[bytes, int]], concurrency: int, rate: float | None
) -> tuple[SendStats, float, float]:
    """Send every body with `concurrency` workers (half gRPC, half HTTP), retrying refusals."""
    stats = SendStats()
    queue: asyncio.Queue[tuple[bytes, int]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    started = time.perf_counter()
    spans_sent = 0

    async def worker(index: int) -> None:
        nonlocal spans_sent
        async with (
            aiohttp.ClientSession() as session,
            grpc.aio.insecure_channel(stack.grpc_endpoint) as channel,
        ):
            while not queue.empty():
                body, count = queue.get_nowait()
                if rate:
                    due = started + spans_sent / rate
                    spans_sent += count
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                while True:
                    sent = time.perf_counter()
                    if index % 2:
                        status, retry = await _send_http(
                            session, f"{stack.http_endpoint}/v1/traces", body
                        )
                    else:
                        status, retry = await _send_grpc(channel, body)
                    stats.latencies_ms.append((time.perf_counter() - sent) * 1000)
                    if status == 200:
                        stats.accepted_spans += count
                        break
                    if status in (429, 503):
                        stats.refused += 1
                        await asyncio.sleep(min(retry, 1.0))
                        continue
                    stats.failed += 1
                    break

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return stats, started, time.perf_counter()


def wait_stored(database_url: str, expected: int, timeout: float = 600) -> float:
    """Poll until the database holds `expected` spans; return the perf_counter time it did."""
    deadline = time.perf_counter() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.perf_counter() < deadline:
            row = conn.execute("SELECT count(*) FROM spans").fetchone()
            if row and row[0] >= expected:
                return time.perf_counter()
            time.sleep(0.05)
    raise TimeoutError(f"fewer than {expected} spans stored after {timeout}s")


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


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start throwaway servers and the stack, send, measure, stop; return the numbers."""
    workdir = Path(tempfile.mkdtemp(prefix="llmobs-bench-"))
    bodies = prepare(args.spans, args.seed)
    total = sum(count for _, count in bodies)
    with (
        start_postgres(workdir / "pg", throwaway=True) as pg,
        start_redis(workdir / "redis", throwaway=True) as redis_server,
    ):
        with psycopg.connect(pg.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        database_url = with_database(pg.url, "bench")
        apply_migrations(database_url)
        stack = build_stack(database_url, redis_server.url, workdir, LOG_LEVEL="WARNING")
        stack.start()
        try:
            stats, started, sent = asyncio.run(send_all(stack, bodies, args.concurrency, args.rate))
            stored = wait_stored(database_url, stats.accepted_spans)
            p50_fresh, p99_fresh = freshness(database_url)
            services = {
                name: usage(process.process.pid)
                for name, process in (("collector", stack.collector), ("storage", stack.storage),
                                      ("api", stack.api)) if process.process
            }  # fmt: skip
        finally:
            stack.stop()
    return {
        "spans": total, "accepted": stats.accepted_spans, "refused_requests": stats.refused,
        "failed_requests": stats.failed, "send_seconds": sent - started,
        "end_to_end_seconds": stored - started,
        "accepted_per_second": stats.accepted_spans / (sent - started),
        "end_to_end_per_second": stats.accepted_spans / (stored - started),
        "export_p50_ms": percentile(stats.latencies_ms, 0.5),
        "export_p99_ms": percentile(stats.latencies_ms, 0.99),
        "freshness_p50_s": p50_fresh, "freshness_p99_s": p99_fresh,
        "services": {name: (u.cpu_seconds, u.peak_rss_mb) for name, u in services.items()},
    }  # fmt: skip


def main() -> None:
    """Parse arguments, run, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spans", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=None, help="spans/s; default: flat out")
    parser.add_argument("--seed", type=int, default=7)
    result = run(parser.parse_args())
    for key, value in result.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
