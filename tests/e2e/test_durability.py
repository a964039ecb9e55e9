"""Storage killed with SIGKILL mid-stream loses nothing and doubles nothing."""

from __future__ import annotations

import threading
import time

import psycopg

from tests.e2e.otlp_load import build_request, post
from tests.e2e.services import Stack

BATCHES = 100
SPANS_PER_BATCH = 100


def count_spans(database_url: str) -> tuple[int, int]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_storage_sigkill_loses_and_doubles_nothing(stack: Stack, database_url: str) -> None:
    acknowledged = 0
    failures: list[int] = []

    def send() -> None:
        nonlocal acknowledged
        for batch in range(BATCHES):
            status, _, _ = post(
                f"{stack.http_endpoint}/v1/traces", build_request(batch, SPANS_PER_BATCH)
            )
            if status == 200:
                acknowledged += SPANS_PER_BATCH
            else:
                failures.append(status)
            time.sleep(0.01)

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 30
    while count_spans(database_url)[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    stack.storage.kill()
    killed_at = count_spans(database_url)[0]
    time.sleep(0.5)
    stack.storage.start()
    sender.join(60)
    assert not failures, f"collector refused requests: {failures}"
    assert acknowledged == BATCHES * SPANS_PER_BATCH
    assert 0 < killed_at < acknowledged, "the kill must land while spans are being written"
    deadline = time.monotonic() + 60
    while count_spans(database_url)[0] < acknowledged and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # anything still in flight (a duplicate would show now)
    total, distinct = count_spans(database_url)
    assert (total, distinct) == (acknowledged, acknowledged)
    with psycopg.connect(database_url) as conn:
        traces = conn.execute("SELECT count(*), sum(span_count) FROM traces").fetchone()
    assert traces == (BATCHES, acknowledged), "trace rows fold each span exactly once"
