"""One system under one load: send the prepared requests while sampling accepted and stored
spans, wait for every accepted span to be stored (or a timeout), and collect the figures."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field

import psycopg

from bench.load import Body, SendStats, percentile, send_all
from bench.procstat import tree_cpu_seconds, usage
from bench.sut import SystemUnderTest

SAMPLE_SECONDS = 0.25


@dataclass(frozen=True)
class Sample:
    """Spans accepted by the system and stored in its database, `seconds` after the first send."""

    seconds: float
    accepted: int
    stored: int


@dataclass
class Measurement:
    """What one system did with one load."""

    system: str
    version: str
    spans_sent: int
    stats: SendStats
    stored: int
    stored_seconds: float | None  # first send to last span stored; None: timed out
    drain_seconds: float  # last acceptance to the end of the wait
    samples: list[Sample]
    cpu_seconds: dict[str, float]  # per server process, during the load and drain
    peak_rss_mb: dict[str, float]
    shared_cpu_seconds: dict[str, float] = field(default_factory=dict)  # PostgreSQL, Redis
    load_average: float = float("nan")  # of the machine over the last minute, at the end

    @property
    def send_seconds(self) -> float:
        return self.stats.finished - self.stats.started

    @property
    def accepted_per_second(self) -> float:
        return self.stats.accepted_spans / self.send_seconds

    @property
    def end_to_end_per_second(self) -> float | None:
        if self.stored_seconds is None:
            return None
        return self.stored / self.stored_seconds

    @property
    def drain_per_second(self) -> float:
        """Spans stored per second after sending ended (the backlog's drain rate)."""
        at_end = next((s.stored for s in self.samples if s.seconds >= self.send_seconds), 0)
        if self.drain_seconds <= 0:
            return float("nan")
        return (self.stored - at_end) / self.drain_seconds

    def export_ms(self, q: float) -> float:
        return percentile(self.stats.latencies_ms, q)


async def _count(conn: psycopg.AsyncConnection, sql: str) -> int:
    row = await (await conn.execute(sql)).fetchone()
    return int(row[0]) if row else 0


async def _load_and_sample(
    system: SystemUnderTest, bodies: list[Body], concurrency: int, rate: float | None,
    timeout_seconds: float,
) -> tuple[SendStats, list[Sample], float | None, float]:  # fmt: skip
    stats = SendStats()
    samples: list[Sample] = []
    sending = asyncio.create_task(send_all(system.endpoints, bodies, concurrency, rate, stats))
    async with await psycopg.AsyncConnection.connect(system.database_url, autocommit=True) as conn:
        await asyncio.sleep(0)  # let the senders start the clock
        deadline: float | None = None
        while True:
            stored = await _count(conn, system.count_spans_sql)
            now = time.perf_counter()
            samples.append(Sample(now - stats.started, stats.accepted_spans, stored))
            if sending.done():
                deadline = deadline or stats.finished + timeout_seconds
                if stored >= stats.accepted_spans:
                    return sending.result(), samples, now - stats.started, now - stats.finished
                if now >= deadline:
                    return sending.result(), samples, None, now - stats.finished
            await asyncio.sleep(SAMPLE_SECONDS)


def measure(
    system: SystemUnderTest, bodies: list[Body], concurrency: int, rate: float | None = None,
    timeout_seconds: float = 600.0, shared_pids: dict[str, int] | None = None,
) -> Measurement:  # fmt: skip
    """Send `bodies` to a started system; return its figures (CPU counted over this load)."""
    pids = system.server_pids()
    shared_pids = shared_pids or {}
    cpu_before = {name: usage(pid).cpu_seconds for name, pid in pids.items()}
    shared_before = {name: tree_cpu_seconds(pid) for name, pid in shared_pids.items()}
    stats, samples, stored_seconds, drain_seconds = asyncio.run(
        _load_and_sample(system, bodies, concurrency, rate, timeout_seconds)
    )
    after = {name: usage(pid) for name, pid in pids.items()}
    return Measurement(
        system=system.name, version=system.version, spans_sent=sum(c for _, c in bodies),
        stats=stats, stored=samples[-1].stored, stored_seconds=stored_seconds,
        drain_seconds=drain_seconds, samples=samples,
        cpu_seconds={name: after[name].cpu_seconds - cpu_before[name] for name in pids},
        peak_rss_mb={name: after[name].peak_rss_mb for name in pids},
        shared_cpu_seconds={
            name: tree_cpu_seconds(pid) - shared_before[name] for name, pid in shared_pids.items()
        },
        load_average=os.getloadavg()[0],
    )  # fmt: skip
