"""The API pool's connections have planned the span and trace tables (every partition and
index in their catalog cache) before they serve a request."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from aiohttp.test_utils import TestClient, TestServer

from services.api.app import create_app
from services.api.context import POOL
from services.api.warmup import load_table_catalog
from services.storage.partitions import ensure_partitions
from tests.api.conftest import api_config

# Each index cached by a backend has a memory context "index info" named after the index.
CACHED_SPAN_INDEXES = """
SELECT count(*) FROM pg_backend_memory_contexts
WHERE name = 'index info' AND ident IN (
    SELECT indexrelid::regclass::text FROM pg_index
    WHERE indrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'spans'::regclass))
"""
PARTITION_INDEXES = """
SELECT count(*) FROM pg_index
WHERE indrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'spans'::regclass)
"""


async def _count(conn: psycopg.AsyncConnection[Any], statement: str) -> int:
    row = await (await conn.execute(statement)).fetchone()
    assert row is not None
    return int(row[0])


async def test_pool_connections_come_with_every_span_partition_index_cached(
    database_url: str, redis_url: str
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await ensure_partitions(conn, [today - dt.timedelta(days=n) for n in range(5)])
        indexes = await _count(conn, PARTITION_INDEXES)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        assert await _count(conn, CACHED_SPAN_INDEXES) == 0  # a new plain connection has none
    assert indexes >= 5 * 4  # the default partition and five days, several indexes each
    client = TestClient(TestServer(create_app(api_config(database_url, redis_url))))
    await client.start_server()
    try:
        async with client.app[POOL].connection() as conn:
            assert await _count(conn, CACHED_SPAN_INDEXES) == indexes
    finally:
        await client.close()


async def test_a_database_without_the_tables_still_gives_connections(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("DROP TABLE spans, traces CASCADE")
        await load_table_catalog(conn)  # no error: requests will name the missing table
        assert await _count(conn, "SELECT 1") == 1
