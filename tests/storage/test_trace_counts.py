"""Hourly trace counts: every trace counted once, in the hour it starts in, whatever the order
and the concurrency of the batches that bring its spans; and the traces stored before the
migration that added the counts."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Any

import psycopg

from services.storage.migrations import apply_migrations
from services.storage.partitions import PartitionWindow
from services.storage.rows import span_rows
from services.storage.writer import BatchWriter
from shared.span import Span
from tests.storage.test_writer import records

HOUR_NS = 3_600 * 10**9
# A whole hour, ten days ago: the traces of these tests start around its boundaries.
ANCHOR_NS = (int(dt.datetime.now(dt.UTC).timestamp()) // 3_600 - 240) * HOUR_NS
ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"
RECOUNT = f"""
SELECT project_id, date_bin('1 hour', start_time, {ORIGIN}), count(*) FROM traces
GROUP BY 1, 2 ORDER BY 1, 2
"""
# Hours a trace moved out of keep a count of 0 until retention drops them.
COUNTS = """
SELECT project_id, bucket_start, trace_count FROM trace_counts_1h WHERE trace_count <> 0
ORDER BY 1, 2
"""
UNCOUNTED = f"""
SELECT count(*) FROM traces
WHERE counted_hour IS DISTINCT FROM date_bin('1 hour', start_time, {ORIGIN})
"""


def fetch(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def assert_counted_once(url: str) -> None:
    """The kept counts are a recount of the traces, and each trace knows where it counts."""
    assert fetch(url, COUNTS) == fetch(url, RECOUNT)
    assert fetch(url, UNCOUNTED) == [(0,)]


def hour_of(one: Span) -> dt.datetime:
    return dt.datetime.fromtimestamp(one.start_time_unix_nano // HOUR_NS * 3_600, dt.UTC)


def span(project: str, trace: int, number: int, parent: int | None, start_ns: int) -> Span:
    return Span(
        project_id=project, trace_id=f"{trace:032x}", span_id=f"{trace:08x}{number:08x}",
        parent_span_id=None if parent is None else f"{trace:08x}{parent:08x}",
        name=f"span {number}", kind=1, start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + 10**9, received_unix_nano=start_ns,
        resource_attributes={"service.name": "svc"},
    )  # fmt: skip


def traces_around_hours(rng: random.Random, count: int) -> list[list[Span]]:
    """Traces whose root starts a little before an hour boundary and whose children start
    after it: stored children first, a trace moves to the earlier hour when its root comes."""
    traces = []
    for trace in range(1, count + 1):
        boundary = ANCHOR_NS + rng.randrange(4) * HOUR_NS
        root_start = boundary - rng.randrange(1, 30) * 10**9
        project = "default" if trace % 3 else "p2"
        children = [
            span(project, trace, n, 0, boundary + rng.randrange(60) * 10**9)
            for n in range(1, rng.randrange(2, 5))
        ]
        root = span(project, trace, 0, None, root_start)
        traces.append([*children, root])
    return traces


def batches_of(traces: list[list[Span]], rng: random.Random, size: int) -> list[list[Span]]:
    """Spans in random batches, each trace's children always before its root."""
    pending = [list(spans) for spans in traces]
    batches: list[list[Span]] = []
    while any(pending):
        batch: list[Span] = []
        while len(batch) < size and any(pending):
            spans = rng.choice([p for p in pending if p])
            batch.append(spans.pop(0))
        batches.append(batch)
    return batches


async def write(url: str, batches: list[list[Span]]) -> None:
    writer = BatchWriter(PartitionWindow(30, 3))
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for batch in batches:
            await writer.write_spans(conn, span_rows(records(batch)))


async def test_traces_moved_by_earlier_spans_are_counted_once_where_they_start(
    backend_url: str,
) -> None:
    database_url = backend_url
    rng = random.Random(11)
    traces = traces_around_hours(rng, 40)
    batches = batches_of(traces, rng, 7)
    await write(database_url, batches)
    assert_counted_once(database_url)
    assert sum(row[2] for row in fetch(database_url, COUNTS)) == 40
    # Each root moved its trace to the hour before its children's: only root hours count
    # (the children of the last boundary start in an hour no root starts in).
    root_hours = {hour_of(spans[-1]) for spans in traces}
    assert {row[1] for row in fetch(database_url, COUNTS)} == root_hours
    assert {hour_of(spans[0]) for spans in traces} - root_hours
    await write(database_url, batches[::-1])  # redelivered, in another order: nothing changes
    assert_counted_once(database_url)
    assert sum(row[2] for row in fetch(database_url, COUNTS)) == 40


async def test_concurrent_writers_count_every_trace_once(backend_url: str) -> None:
    database_url = backend_url
    rng = random.Random(5)
    traces = traces_around_hours(rng, 90)
    batches = batches_of(traces, rng, 5)
    # Three writers take the batches in turn: a trace's spans reach different writers at once.
    await asyncio.gather(*(write(database_url, batches[k::3]) for k in range(3)))
    assert_counted_once(database_url)
    assert sum(row[2] for row in fetch(database_url, COUNTS)) == 90


def test_the_migration_counts_the_traces_stored_before_it(empty_database_url: str) -> None:
    url = empty_database_url
    apply_migrations(url, target=10)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO traces (project_id, trace_id, start_time, end_time, span_count,"
            " error_count, llm_call_count)"
            " SELECT 'p' || (n % 2), n::text, now() - n * interval '17 minutes', now(), 1, 0, 0"
            " FROM generate_series(1, 50) AS n"
        )
    assert apply_migrations(url)[0] == 11
    assert_counted_once(url)
    assert sum(row[2] for row in fetch(url, COUNTS)) == 50
