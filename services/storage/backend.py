"""Which storage path the database took in migration 001: TimescaleDB or plain PostgreSQL."""

from __future__ import annotations

import enum
from typing import Any

import psycopg


class Backend(enum.Enum):
    """The two storage paths; one set of migrations and the same query results on both."""

    # spans is a hypertable; rollups are continuous aggregates with refresh policies.
    TIMESCALE = "timescaledb"
    # spans is partitioned by day; the service keeps partitions and rollup tables.
    POSTGRES = "postgresql"

    @property
    def keeps_rollups(self) -> bool:
        """Whether the storage service folds new rows into rollup tables itself."""
        return self is Backend.POSTGRES

    @property
    def keeps_partitions(self) -> bool:
        """Whether the storage service creates and drops the daily partitions of spans."""
        return self is Backend.POSTGRES


# storage_backend() is defined by migration 001 from what spans actually is.
_DETECT = "SELECT storage_backend()"


async def detect_backend(conn: psycopg.AsyncConnection[Any]) -> Backend:
    """Ask the (migrated) database which path it took."""
    cursor = await conn.execute(_DETECT)
    row = await cursor.fetchone()
    if row is None:
        raise RuntimeError("storage_backend() returned no row")
    return Backend(row[0])
