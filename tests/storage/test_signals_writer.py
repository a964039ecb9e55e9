"""Metric points and log records in PostgreSQL: values stored exactly, redelivery changes nothing,
log records join their spans, and one transaction holds all three signals."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from services.storage.log_records import log_rows
from services.storage.metric_points import point_rows
from services.storage.rows import span_rows
from services.storage.writer import BatchRows, Written, write_batch
from shared.handoff import SIGNAL_LOGS, SIGNAL_METRICS, Record, decode_entry, encode_batch
from shared.otlp.logs import decode_logs_request
from shared.otlp.metrics import decode_metrics_request
from tests.shared.otlp_samples import T0, logs_request, metrics_request
from tests.storage.test_writer import fetch, make_span, records


def handed_off(signal: str, batch: list[Record]) -> list[dict[str, Any]]:
    """What storage reads from the stream for these records."""
    return decode_entry(encode_batch(signal, "default", batch)).records


def point_batch(offset_ns: int = 0) -> list[tuple[Any, ...]]:
    points = decode_metrics_request(metrics_request(offset_ns), "default", T0 + 5).points
    return point_rows(handed_off(SIGNAL_METRICS, list(points)))


def log_batch(offset_ns: int = 0) -> list[tuple[Any, ...]]:
    logs = decode_logs_request(logs_request(offset_ns), "default", T0 + 5).records
    return log_rows(handed_off(SIGNAL_LOGS, list(logs)))


async def write(database_url: str, rows: BatchRows) -> Written:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        return await write_batch(conn, rows)


async def test_redelivered_points_and_logs_change_nothing(database_url: str) -> None:
    assert await write(database_url, BatchRows(metric_points=point_batch())) == Written(0, 7, 0)
    assert await write(database_url, BatchRows(log_records=log_batch())) == Written(0, 0, 3)
    before = fetch(database_url, "SELECT * FROM metric_points ORDER BY point_hash")
    twice = BatchRows(metric_points=point_batch() * 2, log_records=log_batch() * 2)
    assert await write(database_url, twice) == Written(0, 0, 0)
    assert fetch(database_url, "SELECT * FROM metric_points ORDER BY point_hash") == before
    assert fetch(database_url, "SELECT count(*) FROM log_records") == [(3,)]
    # The same series one second later is a new point; the same logs then are new records.
    later = BatchRows(metric_points=point_batch(10**9), log_records=log_batch(10**9))
    assert await write(database_url, later) == Written(0, 7, 3)


async def test_points_of_every_type_are_stored_exactly(database_url: str) -> None:
    await write(database_url, BatchRows(metric_points=point_batch()))
    rows = fetch(
        database_url,
        "SELECT metric_name, metric_type, value, value_int, aggregation_temporality,"
        " is_monotonic, count, sum, min, max, bucket_counts, explicit_bounds, scale, zero_count,"
        " positive_offset, positive_bucket_counts, negative_offset, negative_bucket_counts,"
        " quantiles, quantile_values, flags FROM metric_points"
        " ORDER BY metric_name, value NULLS LAST",
    )
    empty = (None,) * 14
    assert rows == [
        ("gen_ai.client.operation.duration", "exponential_histogram", None, None, 1, None, 6,
         2.5, 0.0, 1.25, None, None, 3, 1, -2, [1, 2, 1], 4, [1], None, None, 0),
        ("gen_ai.client.token.usage", "histogram", None, None, 2, None, 3, 431.5, 1.5, 400.0,
         [1, 0, 2], [10.0, 100.0], *(None,) * 8, 0),
        ("gen_ai.requests", "sum", 3.0, 3, 1, True, *empty, 0),
        ("gen_ai.requests", "sum", None, None, 1, True, *empty, 1),
        ("latency.summary", "summary", None, None, None, None, 10, 55.5, *empty[:10],
         [0.5, 0.99], [4.0, 12.5], 0),
        ("queue.depth", "gauge", -(2.0**62), -(2**62), None, None, *empty, 0),
        ("queue.depth", "gauge", 0.25, None, None, None, *empty, 0),
    ]  # fmt: skip
    (histogram,) = fetch(
        database_url,
        "SELECT time_unix_nano, extract(epoch from time)::text,"
        " start_time_unix_nano, (time - start_time)::text, exemplars, attributes, service_name,"
        " scope_attributes, unit FROM metric_points WHERE metric_type = 'histogram'",
    )
    assert histogram == (
        T0, "1790000000.000000", T0 - 10**9, "00:00:01", [{
            "time_unix_nano": T0 - 5, "value": 400.0,
            "trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331",
            "filtered_attributes": {"user": "u1"},
        }], {"gen_ai.token.type": "input"}, "metrics-app", {"scope.attr": True}, "{token}",
    )  # fmt: skip
    gauge_start = fetch(
        database_url, "SELECT DISTINCT start_time FROM metric_points WHERE metric_type = 'gauge'"
    )
    assert gauge_start == [(None,)]


async def test_log_records_are_stored_and_join_their_spans(database_url: str) -> None:
    span = make_span("b7ad6b7169203331", None, 0, trace_id="0af7651916cd43dd8448eb211c80319c")
    written = await write(
        database_url, BatchRows(spans=span_rows(records([span])), log_records=log_batch())
    )
    assert written == Written(1, 0, 1 + 2)
    rows = fetch(
        database_url,
        "SELECT time_unix_nano, observed_time_unix_nano, (time - received_at)::text, trace_id,"
        " span_id, severity_number, severity_text, event_name, body, attributes, service_name,"
        " dropped_attributes_count, flags FROM log_records ORDER BY observed_time_unix_nano",
    )
    # Received at T0 + 5 ns: times are kept in microseconds, the nanoseconds in *_unix_nano.
    assert rows == [
        (T0 + 1, T0 + 2, "00:00:00", None, None, 17, "ERROR", "",
         "provider returned 429", {"http.status_code": 429}, "logs-app", 0, 0),
        (T0, T0 + 7, "00:00:00", "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331",
         9, "INFO", "gen_ai.client.inference.operation.details",
         {"role": "user", "parts": ["Hello?"]}, {"gen_ai.operation.name": "chat"}, "logs-app",
         2, 1),
        # No time: the observed time stands in for it; the bytes body is kept as base64.
        (0, T0 + 3_000, "00:00:00.000003", None, None, 0, "", "", "AAE=", {}, "logs-app", 0, 0),
    ]  # fmt: skip
    joined = fetch(
        database_url,
        "SELECT s.name, l.event_name FROM log_records l"
        " JOIN spans s USING (project_id, trace_id, span_id)",
    )
    assert joined == [("span b7ad6b7169203331", "gen_ai.client.inference.operation.details")]


async def test_one_transaction_holds_all_three_signals(database_url: str) -> None:
    spans = span_rows(records([make_span("0000000000000001", None, 0)]))
    bad_logs = [(*row[:7], 99999, *row[8:]) for row in log_batch()]  # severity past smallint
    with pytest.raises(psycopg.errors.NumericValueOutOfRange):
        await write(
            database_url,
            BatchRows(spans=spans, metric_points=point_batch(), log_records=bad_logs),
        )
    for table in ("spans", "traces", "metric_points", "log_records"):
        assert fetch(database_url, f"SELECT count(*) FROM {table}") == [(0,)], table
    written = await write(
        database_url, BatchRows(spans=spans, metric_points=point_batch(), log_records=log_batch())
    )
    assert written == Written(1, 7, 3)


async def test_compressed_points_and_logs_read_back_and_take_no_duplicates(
    timescale_url: str,
) -> None:
    url = timescale_url
    await write(url, BatchRows(metric_points=point_batch(), log_records=log_batch()))
    queries = ("SELECT * FROM metric_points ORDER BY point_hash",
               "SELECT * FROM log_records ORDER BY record_hash")  # fmt: skip
    before = [fetch(url, query) for query in queries]
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("metric_points", "log_records"):
            conn.execute("SELECT compress_chunk(c) FROM show_chunks(%s::regclass) c", (table,))
    compressed = fetch(
        url, "SELECT hypertable_name, bool_and(is_compressed) FROM timescaledb_information.chunks"
        " WHERE hypertable_name IN ('metric_points', 'log_records') GROUP BY 1 ORDER BY 1",
    )  # fmt: skip
    assert compressed == [("log_records", True), ("metric_points", True)]
    assert [fetch(url, query) for query in queries] == before
    again = BatchRows(metric_points=point_batch(), log_records=log_batch())
    assert await write(url, again) == Written(0, 0, 0)
    assert [fetch(url, query) for query in queries] == before
