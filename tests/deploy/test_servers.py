"""The test servers are real, and every test gets a database and a Redis DB of its own."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import psycopg
import pytest
import redis
import redis.asyncio

from deploy.local.servers import HOST, LocalServer, ServerError, start_postgres, start_redis


def test_pg_server_runs_with_the_test_settings(pg_server: LocalServer) -> None:
    names = ["fsync", "synchronous_commit", "full_page_writes", "max_connections"]
    with psycopg.connect(pg_server.url) as conn:
        rows = conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (names,)
        ).fetchall()
    assert dict(rows) == {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
    }


async def test_database_url_is_a_migrated_database_of_its_own(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute(
            "SELECT current_database(), count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
        row = await cursor.fetchone()
    assert row is not None
    name, tables = row
    assert name.startswith("test_")
    assert tables > 0  # the migrations applied to the template came along


@pytest.mark.parametrize("run", [1, 2])
def test_database_url_starts_from_the_untouched_template(database_url: str, run: int) -> None:
    # Whichever runs second fails if the first one's table leaked into the template.
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('public.leftover')").fetchone() == (None,)
        conn.execute("CREATE TABLE leftover (run integer)")


def test_redis_url_is_an_emptied_db_of_its_own(
    redis_server: LocalServer, request: pytest.FixtureRequest
) -> None:
    base = redis_server.url.rsplit("/", 1)[0]
    clients = {db: redis.Redis.from_url(f"{base}/{db}") for db in range(16)}
    for db, client in clients.items():
        client.set("seed", db)

    url = request.getfixturevalue("redis_url")  # requested only now: it flushes after seeding
    mine = int(url.rsplit("/", 1)[1])
    assert mine != 0
    with redis.Redis.from_url(url) as client:
        assert client.dbsize() == 0
        client.set("mine", 1)
    for db, client in clients.items():
        if db != mine:
            assert client.get("seed") == str(db).encode()
            assert client.get("mine") is None
    clients[0].flushall()
    for client in clients.values():
        client.close()


async def test_redis_url_serves_the_asyncio_client(redis_url: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        await client.set("key", "value")
        assert await client.get("key") == b"value"
    finally:
        await client.aclose()


def test_persistent_postgres_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    with start_postgres(tmp_path / "postgres") as server, psycopg.connect(server.url) as conn:
        conn.execute("CREATE TABLE kept AS SELECT 42 AS answer")
    try:
        with start_postgres(tmp_path / "postgres") as again, psycopg.connect(again.url) as conn:
            assert conn.execute("SELECT answer FROM kept").fetchone() == (42,)
    finally:
        shutil.rmtree(server.data_dir)  # may be a /tmp stand-in outside tmp_path


def test_persistent_redis_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    with start_redis(tmp_path / "redis") as server, redis.Redis.from_url(server.url) as client:
        client.set("kept", "yes")
    with start_redis(tmp_path / "redis") as again, redis.Redis.from_url(again.url) as client:
        assert client.get("kept") == b"yes"


def test_throwaway_server_frees_its_port_and_data(tmp_path: Path) -> None:
    with start_redis(tmp_path / "redis", throwaway=True) as server:
        pass
    assert not server.data_dir.exists()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, server.port))


def test_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        with pytest.raises(ServerError, match="Address already in use"):
            start_redis(tmp_path / "redis", taken.getsockname()[1], throwaway=True)
