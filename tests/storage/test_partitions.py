"""Daily partitions of spans on plain PostgreSQL: created per batch and ahead, without blocking
writers; rows outside the window in the default partition, moved out when their day arrives."""

from __future__ import annotations

import asyncio
import datetime as dt

import psycopg
import pytest

from services.storage.backend import Backend
from services.storage.partitions import (
    PartitionWindow,
    drop_partitions_before,
    ensure_partitions,
    list_partition_days,
    partition_name,
)
from services.storage.rows import span_rows
from services.storage.writer import BatchWriter, write_spans
from shared.span import Span
from tests.storage.test_writer import records

TODAY = dt.datetime.now(dt.UTC).date()
NOON = dt.time(12, tzinfo=dt.UTC)


def span_on(day: dt.date, number: int) -> Span:
    start = dt.datetime.combine(day, NOON)
    start_ns = int(start.timestamp()) * 1_000_000_000
    return Span(
        project_id="default", trace_id=f"{number:032x}", span_id=f"{number:016x}",
        parent_span_id=None, name="s", kind=1, start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + 1_000_000, received_unix_nano=start_ns,
    )  # fmt: skip


def homes(url: str) -> dict[str, str]:
    """span_id -> the partition holding it."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT span_id, tableoid::regclass::text FROM spans").fetchall()
    return dict(rows)


async def test_writer_creates_the_partitions_of_a_batch_within_the_window(
    database_url: str,
) -> None:
    days = {
        1: TODAY, 2: TODAY - dt.timedelta(days=2), 3: TODAY + dt.timedelta(days=1),
        4: TODAY + dt.timedelta(days=10), 5: TODAY - dt.timedelta(days=60),
    }  # fmt: skip
    spans = [span_on(day, number) for number, day in days.items()]
    writer = BatchWriter(PartitionWindow(lookback_days=30, ahead_days=3))
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        assert await writer.write_spans(conn, span_rows(records(spans))) == 5
        assert await list_partition_days(conn) == sorted(days[n] for n in (1, 2, 3))
    placed = homes(database_url)
    assert placed == {
        f"{1:016x}": partition_name(days[1]), f"{2:016x}": partition_name(days[2]),
        f"{3:016x}": partition_name(days[3]),
        f"{4:016x}": "spans_default", f"{5:016x}": "spans_default",  # outside the window
    }  # fmt: skip


async def test_rows_of_a_new_partition_move_out_of_the_default_one(database_url: str) -> None:
    day = TODAY + dt.timedelta(days=5)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await write_spans(conn, span_rows(records([span_on(day, 1)])), Backend.POSTGRES)
        assert homes(database_url) == {f"{1:016x}": "spans_default"}
        assert await ensure_partitions(conn, [day]) == 1
        assert await ensure_partitions(conn, [day]) == 0  # exists already
    assert homes(database_url) == {f"{1:016x}": partition_name(day)}


async def test_concurrent_creation_of_the_same_days_creates_each_once(database_url: str) -> None:
    days = [TODAY + dt.timedelta(days=offset) for offset in range(5)]
    connections = [
        await psycopg.AsyncConnection.connect(database_url, autocommit=True) for _ in range(3)
    ]
    try:
        created = await asyncio.gather(*(ensure_partitions(c, days) for c in connections))
        assert sum(created) == len(days)
        assert await list_partition_days(connections[0]) == days
    finally:
        for conn in connections:
            await conn.close()


async def test_creating_a_partition_does_not_wait_for_writers(database_url: str) -> None:
    """A write transaction in progress does not delay ATTACH PARTITION of another day."""
    async with (
        await psycopg.AsyncConnection.connect(database_url, autocommit=True) as writer,
        await psycopg.AsyncConnection.connect(database_url, autocommit=True) as creator,
    ):
        await ensure_partitions(creator, [TODAY])
        async with writer.transaction():
            await write_spans(writer, span_rows(records([span_on(TODAY, 1)])), Backend.POSTGRES)
            await creator.execute("SET lock_timeout = '2s'")
            assert await ensure_partitions(creator, [TODAY + dt.timedelta(days=1)]) == 1
    assert len(homes(database_url)) == 1


async def test_old_partitions_are_dropped(database_url: str) -> None:
    days = [TODAY - dt.timedelta(days=offset) for offset in (40, 31, 30, 29, 0)]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await ensure_partitions(conn, days)
        dropped = await drop_partitions_before(conn, TODAY - dt.timedelta(days=30))
        assert dropped == [partition_name(days[0]), partition_name(days[1])]
        assert await list_partition_days(conn) == sorted(days[2:])


@pytest.mark.parametrize(
    ("offset", "covered"), [(-31, False), (-30, True), (0, True), (3, True), (4, False)]
)
def test_window(offset: int, covered: bool) -> None:
    window = PartitionWindow(lookback_days=30, ahead_days=3)
    assert window.covers(TODAY + dt.timedelta(days=offset), TODAY) is covered
