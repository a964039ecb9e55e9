"""The ingest loop against real Redis and PostgreSQL: commit then acknowledge, recover stale
entries of a dead consumer, dead-letter what cannot be read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import psycopg
import pytest
import redis.asyncio as redis

from services.storage.config import StorageConfig
from services.storage.consume import StreamConsumer
from services.storage.ingest import Ingestor
from services.storage.metrics import StorageMetrics
from shared.db import open_pool
from shared.handoff import SIGNAL_LOGS, SIGNAL_METRICS, encode_batch, encode_spans
from shared.otlp.logs import decode_logs_request
from shared.otlp.metrics import decode_metrics_request
from tests.shared.otlp_samples import logs_request, metrics_request
from tests.storage.test_writer import make_span

STREAM, GROUP, DEAD = "test:spans", "storage", "test:spans:dead"


def config(database_url: str, redis_url: str, name: str) -> StorageConfig:
    return StorageConfig(
        database_url=database_url, redis_url=redis_url, stream=STREAM, group=GROUP,
        dead_letter_stream=DEAD, consumer_name=name, max_batch_spans=100,
        flush_interval_ms=20, claim_idle_seconds=1,
    )  # fmt: skip


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    await connection.aclose()


async def run_ingestor(
    settings: StorageConfig, client: redis.Redis, until: int, table: str = "spans"
) -> Ingestor:
    """Run an ingestor until the database holds `until` rows in `table`, then stop it."""
    pool = await open_pool(settings.database_url, 1, 2)
    consumer = StreamConsumer(client, STREAM, GROUP, settings.consumer_name, 1000)
    ingestor = Ingestor(settings, consumer, pool, StorageMetrics())
    task = asyncio.create_task(ingestor.run())
    try:
        for _ in range(200):
            async with pool.connection() as conn:
                count = f"SELECT count(*) FROM {table}"
                row = await (await conn.execute(count)).fetchone()  # type: ignore[arg-type]
            if row and row[0] >= until:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # let it acknowledge
    finally:
        ingestor.stop()
        await task
        await pool.close()
    return ingestor


def span_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM spans").fetchone()
    return int(row[0]) if row else 0


async def test_written_entries_are_acknowledged_and_removed(
    database_url: str, redis_url: str, client: redis.Redis
) -> None:
    for batch in range(3):
        spans = [replace(make_span(f"{batch:08x}{i:08x}", None, i), trace_id=f"{batch + 1:032x}")
                 for i in range(1, 6)]  # fmt: skip
        await client.xadd(STREAM, encode_spans("default", spans))  # type: ignore[arg-type]
    ingestor = await run_ingestor(config(database_url, redis_url, "a"), client, 15)
    assert span_count(database_url) == 15
    assert ingestor.state.spans_written == 15
    assert await client.xlen(STREAM) == 0
    pending = await client.xpending(STREAM, GROUP)
    assert pending["pending"] == 0


async def test_entries_of_a_dead_consumer_are_claimed(
    database_url: str, redis_url: str, client: redis.Redis
) -> None:
    dead = StreamConsumer(client, STREAM, GROUP, "dead", 1000)
    await dead.ensure_group()
    spans = [make_span(f"{i:016x}", None, i) for i in range(1, 9)]
    await client.xadd(STREAM, encode_spans("default", spans))  # type: ignore[arg-type]
    delivered = await dead.read(count=10, block_ms=100)
    assert len(delivered) == 1  # read, never acknowledged: the consumer "died"
    await asyncio.sleep(1.1)  # past the idle threshold
    await run_ingestor(config(database_url, redis_url, "alive"), client, 8)
    assert span_count(database_url) == 8
    assert (await client.xpending(STREAM, GROUP))["pending"] == 0


async def test_unreadable_entry_is_dead_lettered_and_the_rest_written(
    database_url: str, redis_url: str, client: redis.Redis
) -> None:
    good = encode_spans("default", [make_span("00000000000000aa", None, 1)])
    await client.xadd(STREAM, {b"v": b"999", b"body": b"?"})
    await client.xadd(STREAM, good)  # type: ignore[arg-type]
    bad_body = {**good, b"body": b"not zstd"}
    await client.xadd(STREAM, bad_body)  # type: ignore[arg-type]
    await run_ingestor(config(database_url, redis_url, "a"), client, 1)
    assert span_count(database_url) == 1
    dead = await client.xrange(DEAD)
    assert len(dead) == 2
    errors = sorted(fields[b"error"].decode() for _, fields in dead)
    assert "unknown hand-off format version" in errors[0]
    assert "unreadable hand-off entry" in errors[1]
    assert await client.xlen(STREAM) == 0


async def test_entries_of_every_signal_are_written_in_one_batch(
    database_url: str, redis_url: str, client: redis.Redis
) -> None:
    points = decode_metrics_request(metrics_request(), "default", 1).points
    logs = decode_logs_request(logs_request(), "default", 1).records
    span = make_span("00000000000000ab", None, 1)
    unknown = {**encode_spans("default", [span]), b"signal": b"profiles"}
    for fields in (
        encode_batch(SIGNAL_METRICS, "default", points), encode_spans("default", [span]),
        encode_batch(SIGNAL_LOGS, "default", logs), unknown,
    ):  # fmt: skip
        await client.xadd(STREAM, fields)  # type: ignore[arg-type]
    ingestor = await run_ingestor(config(database_url, redis_url, "a"), client, 3, "log_records")
    state = ingestor.state
    assert (state.batches, state.spans_written) == (1, 1)
    assert (state.metric_points_written, state.log_records_written) == (7, 3)
    assert span_count(database_url) == 1
    (dead,) = await client.xrange(DEAD)
    assert dead[1][b"error"] == b"unknown signal 'profiles'"
    assert await client.xlen(STREAM) == 0


async def test_a_record_the_database_refuses_is_dead_lettered_and_the_rest_stored(
    database_url: str, redis_url: str, client: redis.Redis
) -> None:
    from shared.handoff import decode_entry, encode_batch

    good = [make_span(f"{i:016x}", None, i) for i in range(1, 4)]
    entry = decode_entry(encode_spans("default", good))
    poison = dict(entry.records[1], kind=70000)  # smallint out of range: the database refuses it
    records = [entry.records[0], poison, entry.records[2]]
    await client.xadd(STREAM, encode_batch("traces", "default", records))  # type: ignore[arg-type]
    await client.xadd(STREAM, encode_spans("default", [make_span("00000000000000ff", None, 9)]))  # type: ignore[arg-type]
    await run_ingestor(config(database_url, redis_url, "a"), client, 3)
    assert span_count(database_url) == 3
    dead = await client.xrange(DEAD)
    assert len(dead) == 1
    ((_, dead_fields),) = dead
    assert b"NumericValueOutOfRange" in dead_fields[b"error"]
    assert decode_entry(dead_fields).records[0]["span_id"] == poison["span_id"]
    assert await client.xlen(STREAM) == 0
    assert (await client.xpending(STREAM, GROUP))["pending"] == 0
