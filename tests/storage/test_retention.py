"""Retention on both storage paths: each data class at its global setting, shorter ones per
project, signal tables only when they exist, in bounded batches; the TimescaleDB policies carry
the configured days."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from services.storage.config import RetentionConfig
from services.storage.log_records import log_rows
from services.storage.partitions import PartitionWindow
from services.storage.retention import run_retention
from services.storage.rows import span_rows
from services.storage.writer import BatchRows, BatchWriter, write_batch
from shared.handoff import SIGNAL_LOGS, decode_entry, encode_batch
from shared.log_record import LogRecord
from shared.span import LLMCall, Span, Usage
from tests.storage.test_rollups import refresh_if_timescale
from tests.storage.test_trace_counts import COUNTS, RECOUNT
from tests.storage.test_writer import records

NOW = dt.datetime.now(dt.UTC)
AGES_DAYS = (500, 40, 20, 0.05)
PROJECTS = ("default", "p2")
CONFIG = RetentionConfig(spans_days=25, rollup_1m_days=7, rollup_1h_days=30, rollup_1d_days=730,
                         log_records_days=25)  # fmt: skip
OVERRIDES = [("p2", "spans", 10), ("p2", "rollup_1d", 10), ("p2", "log_records", 10),
             ("default", "rollup_1m", 100)]  # fmt: skip


def call(project_id: str, age_days: float, number: int) -> Span:
    start = NOW - dt.timedelta(days=age_days)
    start_ns = int(start.timestamp() * 1e6) * 1000
    return Span(
        project_id=project_id, trace_id=f"{number:032x}", span_id=f"{number:016x}",
        parent_span_id=None, name="chat", kind=3, start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + 250_000_000, received_unix_nano=start_ns,
        resource_attributes={"service.name": "svc"},
        llm=LLMCall(convention="otel_genai", span_type="llm", provider="openai",
                    operation="chat", request_model="gpt-4o-mini",
                    usage=Usage(input_tokens=10, output_tokens=5)),
    )  # fmt: skip


def fetch(url: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def ages_left(url: str, relation: str, time_column: str, metric_filter: str = "") -> set[Any]:
    """(project, age in whole days) of the rows left in `relation`."""
    rows = fetch(
        url,
        f"SELECT DISTINCT project_id, floor(extract(epoch FROM %s - {time_column}) / 86400)::int"
        f" FROM {relation} {metric_filter}",
        (NOW,),
    )
    return set(rows)


def expected(kept: dict[str, tuple[float, ...]], bucket: str = "second") -> set[tuple[str, int]]:
    """The (project, age in whole days) pairs of rows at the given ages, bucketed as rollups."""
    pairs = set()
    for project, ages in kept.items():
        for age in ages:
            moment = NOW - dt.timedelta(days=age)
            if bucket == "day":
                moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
            elif bucket == "hour":
                moment = moment.replace(minute=0, second=0, microsecond=0)
            elif bucket == "minute":
                moment = moment.replace(second=0, microsecond=0)
            pairs.add((project, int((NOW - moment).total_seconds() // 86400)))
    return pairs


def _nanos(age_days: float) -> int:
    return int((NOW - dt.timedelta(days=age_days)).timestamp() * 1e6) * 1000


async def load(url: str) -> None:
    points = [(project, age) for age in AGES_DAYS for project in PROJECTS for _ in range(3)]
    spans = [call(project, age, number) for number, (project, age) in enumerate(points, 1)]
    writer = BatchWriter(PartitionWindow(lookback_days=400, ahead_days=3))
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        assert await writer.write_spans(conn, span_rows(records(spans))) == len(spans)
        logs = [
            LogRecord(project_id=project, time_unix_nano=_nanos(age),
                      observed_time_unix_nano=_nanos(age), body=f"line {age}")
            for project in PROJECTS
            for age in AGES_DAYS[1:]
        ]  # fmt: skip
        entry = decode_entry(encode_batch(SIGNAL_LOGS, "default", logs))
        written = await write_batch(conn, BatchRows(log_records=log_rows(entry.records)))
        assert written.log_records == len(logs)
        for override in OVERRIDES:
            await conn.execute("INSERT INTO project_retention VALUES (%s, %s, %s)", override)
    refresh_if_timescale(url)


async def test_retention_per_data_class_and_project(backend_url: str) -> None:
    url = backend_url
    await load(url)
    async with AsyncConnectionPool(
        url, min_size=1, max_size=2, kwargs={"autocommit": True}
    ) as pool:
        report = await run_retention(pool, CONFIG, batch_rows=2)
    assert not report.skipped
    assert report.missing_tables == []
    assert ages_left(url, "spans", "start_time") == {("default", 20), ("default", 0),
                                                     ("p2", 0)}  # fmt: skip
    assert ages_left(url, "traces", "start_time") == ages_left(url, "spans", "start_time")
    # The hourly trace counts lost exactly the deleted traces, and no hour is left empty.
    assert fetch(url, COUNTS) == fetch(url, RECOUNT)
    assert fetch(url, "SELECT count(*) FROM trace_counts_1h WHERE trace_count <= 0") == [(0,)]
    for relation, metric in (("usage", ""), ("latency_hist", "WHERE metric = 'duration'")):
        assert ages_left(url, f"{relation}_1m", "bucket_start", metric) == expected(
            {"default": (0.05,), "p2": (0.05,)}, "minute"
        )
        assert ages_left(url, f"{relation}_1h", "bucket_start", metric) == expected(
            {"default": (20, 0.05), "p2": (20, 0.05)}, "hour"
        )
        assert ages_left(url, f"{relation}_1d", "bucket_start", metric) == expected(
            {"default": (500, 40, 20, 0.05), "p2": (0.05,)}, "day")  # fmt: skip
    assert ages_left(url, "log_records", "time") == {("default", 20), ("default", 0), ("p2", 0)}
    assert sum(report.deleted_rows.values()) > 0
    if report.backend == "postgresql":
        assert report.dropped_partitions == [f"spans_{NOW - dt.timedelta(days=40):%Y%m%d}"]
        assert report.deleted_rows["spans_default"] == 6  # 500 days old: outside every partition
        assert report.deleted_rows["spans"] == 3  # p2, 20 days old, in batches of two


async def test_timescale_policies_carry_the_configured_days(timescale_url: str) -> None:
    async with AsyncConnectionPool(
        timescale_url, min_size=1, max_size=1, kwargs={"autocommit": True}
    ) as pool:
        report = await run_retention(pool, CONFIG, batch_rows=100)
    drop_after = dict(fetch(
        timescale_url,
        "SELECT hypertable_name, config ->> 'drop_after' FROM timescaledb_information.jobs"
        " WHERE proc_name = 'policy_retention' AND hypertable_schema = 'public'",
    ))  # fmt: skip
    assert drop_after["spans"] == "25 days"
    assert drop_after["usage_1m"] == drop_after["ttft_hist_1m"] == "7 days"
    assert drop_after["duration_hist_1h"] == "30 days"
    assert drop_after["usage_1d"] == drop_after["sampled_out_1d"] == "730 days"
    assert drop_after["sampled_out_1h"] == "30 days"
    assert drop_after["metric_points"] == "30 days"
    assert drop_after["log_records"] == "25 days"
    # spans, metric points, log records and the twelve continuous aggregates
    assert len(report.retention_jobs_run) == 15


async def test_a_second_run_at_the_same_time_is_skipped(database_url: str) -> None:
    async with (
        AsyncConnectionPool(
            database_url, min_size=2, max_size=2, kwargs={"autocommit": True}
        ) as pool,
        pool.connection() as holder,
    ):
        await holder.execute("SELECT pg_advisory_lock(%s)", (0x4C4C4D4F5254,))
        report = await run_retention(pool, CONFIG, batch_rows=100)
        await holder.execute("SELECT pg_advisory_unlock(%s)", (0x4C4C4D4F5254,))
    assert report.skipped
    assert report.deleted_rows == {}
