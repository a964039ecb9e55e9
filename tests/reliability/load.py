"""Steady OTLP load for the fault tests, counting what the collector acknowledged, and the
matching count of what storage holds (lost and duplicated spans per acknowledged trace)."""

from __future__ import annotations

import collections
import threading
import time
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.e2e.otlp_load import build_request, post
from tests.reliability.ledger import FaultCounts

RETRYABLE = (429, 502, 503, 504)


@dataclass
class HttpLoad:
    """`batches` OTLP/HTTP requests of `spans_per_batch` spans (one trace each), one every
    `interval_seconds`, each retried like an OTLP exporter does (429/503 and connection errors,
    honouring Retry-After) until acknowledged or `deadline_seconds` after the start."""

    url: str
    batches: int
    spans_per_batch: int
    interval_seconds: float = 0.01
    deadline_seconds: float = 120.0
    max_retry_after_seconds: float = 1.0
    acknowledged: set[int] = field(default_factory=set)
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    retries: int = 0
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def description(self) -> str:
        """The load as the docs table shows it."""
        return (
            f"{self.batches} requests x {self.spans_per_batch} spans, OTLP/HTTP protobuf, "
            f"one every {self.interval_seconds * 1000:.0f} ms, retried like an exporter"
        )

    def start(self) -> HttpLoad:
        """Send from a background thread."""
        self._thread = threading.Thread(target=self._run, name="http-load", daemon=True)
        self._thread.start()
        return self

    def join(self) -> None:
        """Wait for the last request (bounded by the deadline)."""
        assert self._thread is not None
        self._thread.join(self.deadline_seconds + 30)
        assert not self._thread.is_alive(), "the load did not finish"

    def _run(self) -> None:
        deadline = time.monotonic() + self.deadline_seconds
        for batch in range(self.batches):
            body = build_request(batch, self.spans_per_batch)
            while time.monotonic() < deadline:
                status, retry_after = self._send(body)
                self.statuses[status] += 1
                if status == "200":
                    self.acknowledged.add(batch)
                    break
                if status not in {str(code) for code in RETRYABLE} | {"connection error"}:
                    break  # a final refusal: counted, not retried
                self.retries += 1
                time.sleep(min(retry_after, self.max_retry_after_seconds))
            time.sleep(self.interval_seconds)

    def _send(self, body: bytes) -> tuple[str, float]:
        try:
            status, _, headers = post(f"{self.url}/v1/traces", body)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return "connection error", 0.2
        return str(status), float(headers.get("Retry-After", "0.2"))


def stored_spans(database_url: str) -> dict[int, tuple[int, int]]:
    """(rows, distinct span ids) per trace, keyed by the batch number the trace id encodes."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT trace_id, count(*), count(DISTINCT span_id) FROM spans GROUP BY trace_id"
        ).fetchall()
    return {
        int(trace_id, 16) - 1: (int(total), int(distinct)) for trace_id, total, distinct in rows
    }


def count_outcome(
    database_url: str,
    sent: int,
    acknowledged: set[int],
    spans_per_batch: int,
    settle_seconds: float = 60.0,
) -> FaultCounts:
    """Wait until every acknowledged span is stored (or `settle_seconds` pass), then count spans:
    sent, acknowledged, stored (distinct), lost (acknowledged, not stored), duplicates."""
    deadline = time.monotonic() + settle_seconds
    while True:
        stored = stored_spans(database_url)
        missing = sum(spans_per_batch - stored.get(b, (0, 0))[1] for b in acknowledged)
        if missing == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    time.sleep(1.0)  # a late duplicate (a redelivered entry) would show now
    stored = stored_spans(database_url)
    return FaultCounts(
        sent=sent * spans_per_batch,
        acknowledged=len(acknowledged) * spans_per_batch,
        stored=sum(distinct for _, distinct in stored.values()),
        lost=sum(spans_per_batch - stored.get(b, (0, 0))[1] for b in acknowledged),
        duplicates=sum(total - distinct for total, distinct in stored.values()),
    )


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")
