"""Versioned SQL migrations (numbered .sql files beside this module), applied under a lock."""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

_DIRECTORY = Path(__file__).parent
_FILE_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
# Files whose statements must run outside a transaction (continuous aggregates) say so.
_NO_TRANSACTION = "-- migrate: no-transaction"
# In such a file, a statement that starts with this line runs on TimescaleDB only (a CALL
# cannot be made conditional inside a DO block, which is a transaction).
_TIMESCALEDB_ONLY = "-- migrate: timescaledb-only"
# pg_advisory_lock key: any constant unique to this application.
_LOCK_KEY = 0x4C4C4D4F4253


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    sql: str

    @property
    def is_transactional(self) -> bool:
        """Whether the file runs inside one transaction (the default)."""
        return _NO_TRANSACTION not in self.sql


def load_migrations(directory: Path = _DIRECTORY) -> list[Migration]:
    """Return the migrations in version order; a duplicate version is an error.

    Gaps are allowed: a branch may reserve a number that another branch fills, and a version
    merged after higher ones were applied is applied on the next run (each file is independent).
    """
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name {path.name!r} is not NNN_name.sql")
        migrations.append(Migration(int(match[1]), match[2], path.read_text()))
    for previous, migration in itertools.pairwise(migrations):
        if migration.version == previous.version:
            raise ValueError(f"migration {migration.version:03d} is duplicated")
    return migrations


def apply_migrations(conninfo: str, target: int | None = None) -> list[int]:
    """Apply every pending migration (up to `target`); return the versions applied."""
    applied: list[int] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for migration in load_migrations():
                if migration.version in done or (target is not None and migration.version > target):
                    continue
                _apply(conn, migration)
                applied.append(migration.version)
                log.info("migration applied", extra={"version": migration.version})
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied


def _apply(conn: psycopg.Connection, migration: Migration) -> None:
    record = "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)"
    if migration.is_transactional:
        with conn.transaction():
            conn.execute(migration.sql)
            conn.execute(record, (migration.version, migration.name))
        return
    for statement in _split_statements(migration.sql):
        if statement.startswith(_TIMESCALEDB_ONLY) and not _is_timescale(conn):
            continue
        conn.execute(statement)
    conn.execute(record, (migration.version, migration.name))


def _is_timescale(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT storage_backend()").fetchone()
    return row is not None and row[0] == "timescaledb"


def _split_statements(sql: str) -> list[str]:
    """Split a no-transaction file on lines that hold only ';' (its statements' separator)."""
    return [part.strip() for part in re.split(r"^;\s*$", sql, flags=re.M) if part.strip()]
