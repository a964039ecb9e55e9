"""The load every ingest benchmark sends: prepared OTLP export requests, sent by concurrent
exporters (half over gRPC, half over HTTP/protobuf), refusals retried as an SDK would."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

import aiohttp
import grpc

from deploy.devutils.workload import TraceFactory

METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
EXPORT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Endpoints:
    """Where a system receives OTLP traces: a gRPC target (host:port) and the HTTP traces URL."""

    grpc_target: str
    http_traces_url: str


@dataclass
class SendStats:
    """What the senders saw, updated while they send (a sampler reads `accepted_spans`)."""

    accepted_spans: int = 0
    refused: int = 0
    failed: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0


Body = tuple[bytes, int]


def prepare(spans: int, seed: int, start_ns: int | None = None) -> list[Body]:
    """Serialized requests (and their span counts) totalling about `spans` spans, in batches
    of up to 512 spans as the SDK's BatchSpanProcessor sends them."""
    factory = TraceFactory(seed)
    start_ns = time.time_ns() if start_ns is None else start_ns
    bodies: list[Body] = []
    for request in factory.requests(max(1, spans // 4), start_ns, 2_000_000):
        count = sum(len(s.spans) for rs in request.resource_spans for s in rs.scope_spans)
        bodies.append((request.SerializeToString(), count))
    return bodies


async def _send_http(session: aiohttp.ClientSession, url: str, body: bytes) -> tuple[int, float]:
    timeout = aiohttp.ClientTimeout(total=EXPORT_TIMEOUT_SECONDS)
    try:
        async with session.post(
            url, data=body, headers={"Content-Type": "application/x-protobuf"}, timeout=timeout
        ) as response:
            await response.read()
            return response.status, float(response.headers.get("Retry-After", "1"))
    except (TimeoutError, aiohttp.ClientError):
        return 503, 1.0  # the SDK retries a timeout or a dropped connection


async def _send_grpc(channel: grpc.aio.Channel, body: bytes) -> tuple[int, float]:
    try:
        await channel.unary_unary(METHOD)(body, timeout=EXPORT_TIMEOUT_SECONDS)
    except grpc.aio.AioRpcError as exc:
        retryable = exc.code() in (
            grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.DEADLINE_EXCEEDED,
        )  # fmt: skip
        return (429 if retryable else 500), 1.0
    return 200, 0.0


async def send_all(
    endpoints: Endpoints,
    bodies: list[Body],
    concurrency: int,
    rate: float | None = None,
    stats: SendStats | None = None,
) -> SendStats:
    """Send every body with `concurrency` exporters (odd ones over HTTP), at `rate` spans/s or
    flat out, retrying refusals (429/503/UNAVAILABLE) after their Retry-After (at most 1 s)."""
    stats = stats or SendStats()
    queue: asyncio.Queue[Body] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    stats.started = time.perf_counter()
    spans_due = 0

    async def exporter(index: int) -> None:
        nonlocal spans_due
        async with (
            aiohttp.ClientSession() as session,
            grpc.aio.insecure_channel(endpoints.grpc_target) as channel,
        ):
            while not queue.empty():
                body, count = queue.get_nowait()
                if rate:
                    due = stats.started + spans_due / rate
                    spans_due += count
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                while True:
                    sent = time.perf_counter()
                    if index % 2:
                        status, retry = await _send_http(session, endpoints.http_traces_url, body)
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

    await asyncio.gather(*(exporter(i) for i in range(concurrency)))
    stats.finished = time.perf_counter()
    return stats


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values (nan when there are fewer than two)."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]
