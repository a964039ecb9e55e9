"""Session-wide real servers for the tests: one PostgreSQL and one Redis, started by the run."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from psycopg import sql

from deploy.local import binaries
from deploy.local.servers import LocalServer, start_postgres, start_redis, with_database
from tests import timescale_lite

TEMPLATE_DATABASE = "llmobs_template"
REDIS_TEST_DBS = range(1, 16)  # DB 0 is left to anything that does not ask for isolation

_database_numbers = itertools.count(1)
_redis_dbs = itertools.cycle(REDIS_TEST_DBS)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A throwaway PostgreSQL for the whole session (superuser `postgres`, trust auth)."""
    with start_postgres(tmp_path_factory.mktemp("postgres"), throwaway=True) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A throwaway Redis for the whole session, without persistence."""
    with start_redis(tmp_path_factory.mktemp("redis"), throwaway=True) as server:
        yield server


@pytest.fixture(scope="session")
def migrated_template(pg_server: LocalServer) -> str:
    """Create `llmobs_template`, apply every migration once, and return its URL.

    It then refuses connections, so that nothing can keep it busy and break
    `CREATE DATABASE ... TEMPLATE` for the tests that follow.
    """
    from services.storage.migrations import apply_migrations

    url = with_database(pg_server.url, TEMPLATE_DATABASE)
    name = sql.Identifier(TEMPLATE_DATABASE)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    apply_migrations(url)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(name)
        )
    return url


@pytest.fixture
def database_url(pg_server: LocalServer, migrated_template: str) -> Iterator[str]:
    """URL of a fresh, migrated database of the test's own, dropped afterwards."""
    database = f"test_{next(_database_numbers)}"
    name = sql.Identifier(database)
    template = sql.Identifier(TEMPLATE_DATABASE)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(name, template))
    yield with_database(pg_server.url, database)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        # FORCE: a pool the test forgot to close must not fail the next test.
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))


@pytest.fixture
def redis_url(redis_server: LocalServer) -> str:
    """URL of a Redis database index of the test's own (1..15 in turn), emptied beforehand."""
    db = next(_redis_dbs)
    url = f"{redis_server.url.rsplit('/', 1)[0]}/{db}"
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return url


@pytest.fixture
def empty_database_url(pg_server: LocalServer) -> Iterator[str]:
    """URL of a fresh database without any migration, dropped afterwards."""
    database = f"empty_{next(_database_numbers)}"
    name = sql.Identifier(database)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    yield with_database(pg_server.url, database)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))


@pytest.fixture(scope="session")
def timescale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a TimescaleDB (timescaledb-lite, from ../shared/tools beside the checkout) for the
    session; a machine without it fails these tests, saying what is missing."""
    missing = timescale_lite.missing_prerequisite()
    if missing:
        pytest.fail(f"TimescaleDB tests need timescaledb-lite: {missing}")
    with timescale_lite.start_timescale_lite(tmp_path_factory.mktemp("timescaledb-lite")) as url:
        yield url


@pytest.fixture
def empty_timescale_url(timescale_server: str) -> str:
    """The TimescaleDB with nothing but the extension (it has one database: reset, not new)."""
    timescale_lite.reset(timescale_server)
    return timescale_server


@pytest.fixture
def timescale_url(empty_timescale_url: str) -> str:
    """The TimescaleDB, reset and migrated."""
    from services.storage.migrations import apply_migrations

    apply_migrations(empty_timescale_url)
    return empty_timescale_url


@pytest.fixture(params=["postgresql", "timescaledb"])
def backend_url(request: pytest.FixtureRequest) -> str:
    """A migrated database on each storage path in turn: plain PostgreSQL, then TimescaleDB."""
    fixture = "database_url" if request.param == "postgresql" else "timescale_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(scope="session")
def prometheus_bindir() -> Path:
    """Where Debian's `prometheus` and `promtool` are; the run installs them when missing."""
    try:
        return binaries.find_prometheus_bindir()
    except binaries.MissingBinaryError as error:
        pytest.fail(str(error), pytrace=False)
