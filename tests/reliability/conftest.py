"""Fixtures of the reliability suite: the session's ledger, and servers the fault tests may
crash (their own PostgreSQL cluster and Redis, never the session's shared ones)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from deploy.local.servers import with_database
from tests.reliability.ledger import Ledger
from tests.reliability.scale import IS_FULL
from tests.reliability.servers import PostgresProcess, RedisProcess, production_redis_arguments

_fault_databases = itertools.count(1)


@pytest.fixture(scope="session")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """The session's ledger, written at the end to $RELIABILITY_RESULTS (make reliability) or
    to the session's temporary directory."""
    book = Ledger("full" if IS_FULL else "short")
    yield book
    target = os.environ.get("RELIABILITY_RESULTS")
    path = Path(target) if target else tmp_path_factory.getbasetemp() / "reliability-results.json"
    book.write(path)


@pytest.fixture(scope="module")
def fault_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresProcess]:
    """A PostgreSQL cluster of the module's own, durable like production, which its tests may
    crash, restart or make read-only."""
    server = PostgresProcess(tmp_path_factory.mktemp("fault-postgres"))
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def fault_database_url(fault_postgres: PostgresProcess) -> Iterator[str]:
    """An empty database on the fault cluster (storage migrates it when it starts)."""
    database = f"fault_{next(_fault_databases)}"
    with psycopg.connect(fault_postgres.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    yield with_database(fault_postgres.url, database)
    if fault_postgres.server is not None:
        with psycopg.connect(fault_postgres.url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


@pytest.fixture
def fault_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A Redis of the test's own with the persistence settings of docker-compose.yml."""
    server = RedisProcess(tmp_path / "redis", production_redis_arguments())
    server.start()
    try:
        yield server
    finally:
        server.stop()
