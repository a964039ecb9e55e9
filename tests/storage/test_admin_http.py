"""The storage admin API on a running ingest loop: statistics, dead letters (list and replay),
retention on demand; and the removal of consumers that restarts left behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient, TestServer

from services.storage.consume import StreamConsumer
from services.storage.housekeeping import Housekeeper
from services.storage.http import build_app
from services.storage.ingest import Ingestor
from services.storage.metrics import StorageMetrics
from shared.db import open_pool
from shared.handoff import encode_spans
from tests.storage.test_ingest import DEAD, GROUP, STREAM, config, span_count
from tests.storage.test_writer import make_span


@dataclass
class Admin:
    http: TestClient
    redis: redis.Redis
    database_url: str


@pytest.fixture
async def admin(database_url: str, redis_url: str) -> AsyncIterator[Admin]:
    """The admin app beside a running ingest loop, as in the service."""
    settings = config(database_url, redis_url, "storage-a")
    client = redis.Redis.from_url(redis_url)
    pool = await open_pool(database_url, 1, 2)
    consumer = StreamConsumer(client, STREAM, GROUP, settings.consumer_name, 1000)
    metrics = StorageMetrics()
    ingestor = Ingestor(settings, consumer, pool, metrics)
    housekeeper = Housekeeper(settings, pool, consumer, metrics)
    task = asyncio.create_task(ingestor.run())
    http = TestClient(TestServer(build_app(settings, pool, client, ingestor, consumer,
                                           housekeeper)))  # fmt: skip
    await http.start_server()
    try:
        yield Admin(http, client, database_url)
    finally:
        await http.close()
        ingestor.stop()
        await task
        await pool.close()
        await client.aclose()


async def wait_for_spans(database_url: str, count: int) -> None:
    for _ in range(200):
        if span_count(database_url) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} spans were not written")


async def test_stats_report_lag_consumers_batch_sizes_and_rate(admin: Admin) -> None:
    spans = [make_span(f"{i:016x}", None, i) for i in range(1, 41)]
    await admin.redis.xadd(STREAM, encode_spans("default", spans))  # type: ignore[arg-type]
    await wait_for_spans(admin.database_url, 40)
    await asyncio.sleep(0.1)  # acknowledged
    response = await admin.http.get("/stats")
    body = await response.json()
    assert response.status == 200
    assert (body["stream_length"], body["pending"], body["lag"]) == (0, 0, 0)
    assert [c["name"] for c in body["consumers"]] == ["storage-a"]
    assert body["spans_written"] == 40
    assert body["batch_spans"] == {"batches": 1, "mean": 40, "max": 40}
    assert body["rows_per_second"] > 0


async def test_dead_letters_are_listed_and_replayed_to_the_stream(admin: Admin) -> None:
    await admin.redis.xadd(STREAM, {b"v": b"999", b"body": b"?"})
    # An entry dead-lettered by an earlier bug: readable now, so a replay stores it.
    good = encode_spans("default", [make_span("00000000000000aa", None, 1)])
    dead_id = await admin.redis.xadd(DEAD, {**good, b"error": b"old bug", b"source_id": b"1-1"})  # type: ignore[dict-item]
    for _ in range(100):
        if await admin.redis.xlen(DEAD) == 2:
            break
        await asyncio.sleep(0.05)
    response = await admin.http.get("/dead-letters")
    body = await response.json()
    assert body["total"] == 2
    assert [letter["error"] for letter in body["dead_letters"]] == [
        "old bug", "unknown hand-off format version b'999'",
    ]  # fmt: skip
    assert body["dead_letters"][0]["span_count"] == 1
    page = await (await admin.http.get(f"/dead-letters?count=1&after={dead_id.decode()}")).json()
    assert [letter["id"] for letter in page["dead_letters"]] == [body["dead_letters"][1]["id"]]

    response = await admin.http.post(f"/dead-letters/{dead_id.decode()}/replay")
    assert response.status == 200
    assert (await response.json())["stream"] == STREAM
    await wait_for_spans(admin.database_url, 1)
    assert await admin.redis.xlen(DEAD) == 1
    again = await admin.http.post(f"/dead-letters/{dead_id.decode()}/replay")
    assert again.status == 404


@pytest.mark.parametrize(
    "path", ["/dead-letters?count=0", "/dead-letters?count=x", "/dead-letters?after=abc"]
)
async def test_bad_parameters_are_refused(admin: Admin, path: str) -> None:
    response = await admin.http.get(path)
    assert response.status == 400
    assert "error" in await response.json()


async def test_replay_of_a_malformed_id_is_refused(admin: Admin) -> None:
    response = await admin.http.post("/dead-letters/not-an-id/replay")
    assert response.status == 400


async def test_retention_runs_on_demand(admin: Admin) -> None:
    with psycopg.connect(admin.database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO project_retention VALUES ('default', 'spans', 7)")
    response = await admin.http.post("/retention/run")
    body = await response.json()
    assert response.status == 200
    assert body["backend"] == "postgresql"
    assert not body["skipped"]
    assert "spans_default" in body["deleted_rows"]


async def test_idle_consumers_without_pending_entries_are_deleted(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        me = StreamConsumer(client, STREAM, GROUP, "me", 1000)
        await me.ensure_group()
        for name in ("me", "restarted-empty"):
            await client.xgroup_createconsumer(STREAM, GROUP, name)
        await client.xadd(STREAM, {b"k": b"v"})
        holder = StreamConsumer(client, STREAM, GROUP, "restarted-pending", 1000)
        assert len(await holder.read(count=1, block_ms=10)) == 1  # never acknowledged
        await asyncio.sleep(0.3)
        assert await me.delete_idle_consumers(max_idle_ms=200) == ["restarted-empty"]
        names = sorted(c.name for c in await me.consumers())
        assert names == ["me", "restarted-pending"]  # own name and pending entries stay
    finally:
        await client.aclose()
