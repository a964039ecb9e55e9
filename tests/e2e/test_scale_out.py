"""Two storage processes on one consumer group, one of them SIGKILLed and restarted mid-stream:
every span stored exactly once, trace rows and rollups equal to raw queries over the spans."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
import redis

from deploy.local.servers import find_free_port
from shared.handoff import DEFAULT_GROUP, DEFAULT_STREAM
from tests.e2e.otlp_load import build_request, post
from tests.e2e.services import ServiceProcess, Stack
from tests.storage.test_rollups import assert_histograms_equal_raw, assert_usage_equals_raw

BATCHES = 500
SPANS_PER_BATCH = 100
SENDERS = 4
TOTAL = BATCHES * SPANS_PER_BATCH
# Recent times, two hours wide: today's partitions, several hours and many minutes of rollups.
BASE_TIME_NS = (time.time_ns() // 60_000_000_000 - 180) * 60_000_000_000
BATCH_INTERVAL_NS = 15_000_000_000

# Per trace, what the writer folded into `traces` against what the spans say now.
TRACES_DIFFERING_FROM_SPANS = """
SELECT count(*) FROM traces t
FULL JOIN (
    SELECT project_id, trace_id, count(*) AS spans, min(start_time) AS start_time,
           max(end_time) AS end_time, count(*) FILTER (WHERE status_code = 2) AS errors,
           count(*) FILTER (WHERE llm_is_counted) AS calls,
           coalesce(sum(input_tokens) FILTER (WHERE llm_is_counted), 0) AS input_tokens,
           coalesce(sum(output_tokens) FILTER (WHERE llm_is_counted), 0) AS output_tokens,
           coalesce(sum(cost_usd) FILTER (WHERE llm_is_counted), 0) AS cost_usd
    FROM spans GROUP BY project_id, trace_id
) raw USING (project_id, trace_id)
WHERE (t.span_count, t.start_time, t.end_time, t.error_count, t.llm_call_count, t.input_tokens,
       t.output_tokens, t.cost_usd)
      IS DISTINCT FROM (raw.spans, raw.start_time, raw.end_time, raw.errors, raw.calls,
                        raw.input_tokens, raw.output_tokens, raw.cost_usd)
"""


def second_storage(stack: Stack, log_dir: Path) -> ServiceProcess:
    """Another storage process of the same group, on ports of its own."""
    http_port, metrics_port = find_free_port(), find_free_port()
    env = {**stack.storage.env, "STORAGE_HTTP_PORT": str(http_port),
           "STORAGE_METRICS_PORT": str(metrics_port)}  # fmt: skip
    return replace(stack.storage, env=env, health_url=f"http://127.0.0.1:{http_port}/health",
                   log_path=log_dir / "storage-b.log", process=None)  # fmt: skip


def stats(storage: ServiceProcess) -> dict[str, int]:
    url = storage.health_url.replace("/health", "/stats")
    with urllib.request.urlopen(url, timeout=5) as response:
        body: dict[str, int] = json.load(response)
    return body


def count_spans(database_url: str) -> tuple[int, int]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def fetch_one(database_url: str, query: str) -> tuple[int, ...]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return tuple(row)


@pytest.mark.slow
def pending_by_consumer(redis_url: str) -> dict[str, int]:
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        consumers = client.xinfo_consumers(DEFAULT_STREAM, DEFAULT_GROUP)
    return {c["name"]: int(c["pending"]) for c in consumers}


def test_two_storages_one_killed_store_every_span_once(
    stack: Stack, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    other = second_storage(stack, tmp_path)
    other.start()
    acknowledged: list[int] = []
    failures: list[int] = []

    def send(first: int) -> None:
        for batch in range(first, BATCHES, SENDERS):
            body = build_request(batch, SPANS_PER_BATCH, base_time_ns=BASE_TIME_NS,
                                 batch_interval_ns=BATCH_INTERVAL_NS, llm_calls=True)  # fmt: skip
            status, _, _ = post(f"{stack.http_endpoint}/v1/traces", body)
            (acknowledged if status == 200 else failures).append(SPANS_PER_BATCH)

    started = time.monotonic()
    senders = [threading.Thread(target=send, args=(first,)) for first in range(SENDERS)]
    try:
        for sender in senders:
            sender.start()
        deadline = time.monotonic() + 120
        while count_spans(database_url)[0] < TOTAL // 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        written_by_killed = stats(stack.storage)["spans_written"]
        assert stack.storage.process is not None
        killed = f"{socket.gethostname()}-{stack.storage.process.pid}"  # the default name
        stack.storage.kill()
        killed_at = count_spans(database_url)[0]
        left_pending = pending_by_consumer(redis_url).get(killed, 0)
        time.sleep(0.5)
        stack.storage.start()
        for sender in senders:
            sender.join(180)
        assert not failures, f"collector refused {len(failures)} requests"
        assert sum(acknowledged) == TOTAL
        assert 0 < killed_at < TOTAL, "the kill must land while spans are being written"
        deadline = time.monotonic() + 180
        while count_spans(database_url)[0] < TOTAL and time.monotonic() < deadline:
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        time.sleep(1.0)  # anything still in flight (a duplicate would show now)
        assert count_spans(database_url) == (TOTAL, TOTAL)
        written_by_other = stats(other)["spans_written"]
        # The killed consumer's entries were claimed (XAUTOCLAIM) by the others: none pending.
        assert stats(other)["pending"] == 0
        assert pending_by_consumer(redis_url).get(killed, 0) == 0
    finally:
        other.stop()
    assert written_by_killed > 0 and written_by_other > 0, "both processes took part"
    print(f"\n{TOTAL} spans stored in {elapsed:.1f} s ({TOTAL / elapsed:.0f} spans/s) by two "
          f"storages, one killed at {killed_at} with {left_pending} entries pending")  # fmt: skip

    assert fetch_one(database_url, "SELECT count(*), sum(span_count) FROM traces") == (
        BATCHES, TOTAL)  # fmt: skip
    assert fetch_one(database_url, TRACES_DIFFERING_FROM_SPANS) == (0,)
    calls, cost = fetch_one(
        database_url, "SELECT count(*), sum(cost_usd) FROM spans WHERE llm_is_counted"
    )
    assert calls > TOTAL // 2 and cost > 0
    assert fetch_one(database_url, "SELECT count(*) FROM spans_default") == (0,)  # day partitions
    assert_usage_equals_raw(database_url)
    assert_histograms_equal_raw(database_url)
