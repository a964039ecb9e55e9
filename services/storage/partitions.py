"""Daily partitions of spans on plain PostgreSQL: created ahead and on demand, dropped by age.

A partition is created as a table of its own, then attached: ATTACH PARTITION takes only a
SHARE UPDATE EXCLUSIVE lock on spans, so writers of other days go on. Rows the default partition
already holds for that day move into the new partition in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from services.storage.config import StorageConfig

log = logging.getLogger(__name__)

NANOS_PER_DAY = 86_400 * 1_000_000_000
_EPOCH = dt.date(1970, 1, 1)
_NAME = re.compile(r"^spans_(\d{8})$")
# Serialises partition DDL across storage processes (pg_advisory_xact_lock key).
_LOCK_KEY = 0x4C4C4D4F5054

_EXISTS = "SELECT to_regclass(%s) IS NOT NULL"
_LIST = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'spans'::regclass
"""
_CREATE = "CREATE TABLE {partition} (LIKE spans INCLUDING DEFAULTS)"
_MOVE_FROM_DEFAULT = """
WITH moved AS (
    DELETE FROM spans_default WHERE start_time >= %(lo)s AND start_time < %(hi)s RETURNING *
)
INSERT INTO {partition} SELECT * FROM moved
"""
# DDL takes no bind parameters: the bounds are composed as literals.
_ATTACH = "ALTER TABLE spans ATTACH PARTITION {partition} FOR VALUES FROM ({lo}) TO ({hi})"
_DROP = "DROP TABLE {partition}"


@dataclass(frozen=True, slots=True)
class PartitionWindow:
    """The days the service keeps partitions for: from `lookback_days` before today (the spans'
    retention) to `ahead_days` after it. Rows of other days go to the default partition."""

    lookback_days: int
    ahead_days: int

    def covers(self, day: dt.date, today: dt.date) -> bool:
        """Whether `day` gets a partition of its own."""
        return -self.lookback_days <= (day - today).days <= self.ahead_days

    def days_ahead(self, today: dt.date) -> list[dt.date]:
        """Today and the days ahead, created in advance."""
        return [today + dt.timedelta(days=offset) for offset in range(self.ahead_days + 1)]


def partition_window(config: StorageConfig) -> PartitionWindow:
    """The days that get partitions: the spans' retention back, partition_ahead_days ahead."""
    return PartitionWindow(config.retention.spans_days, config.partition_ahead_days)


def partition_name(day: dt.date) -> str:
    """The partition holding the spans that start on `day` (UTC)."""
    return f"spans_{day:%Y%m%d}"


def day_of_nanos(unix_nano: int) -> dt.date:
    """The UTC day of a Unix time in nanoseconds."""
    return _EPOCH + dt.timedelta(days=unix_nano // NANOS_PER_DAY)


def _bounds(day: dt.date) -> dict[str, dt.datetime]:
    lo = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return {"lo": lo, "hi": lo + dt.timedelta(days=1)}


async def ensure_partitions(conn: psycopg.AsyncConnection[Any], days: Iterable[dt.date]) -> int:
    """Create the partitions of `days` that do not exist yet; return how many were created."""
    created = 0
    for day in sorted(set(days)):
        if await _create_partition(conn, day):
            created += 1
    return created


async def _create_partition(conn: psycopg.AsyncConnection[Any], day: dt.date) -> bool:
    name = partition_name(day)
    partition = sql.Identifier(name)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        row = await (await conn.execute(_EXISTS, (name,))).fetchone()
        if row and row[0]:
            return False
        bounds = _bounds(day)
        await conn.execute(sql.SQL(_CREATE).format(partition=partition))
        await conn.execute(sql.SQL(_MOVE_FROM_DEFAULT).format(partition=partition), bounds)
        await conn.execute(
            sql.SQL(_ATTACH).format(
                partition=partition, lo=sql.Literal(bounds["lo"]), hi=sql.Literal(bounds["hi"])
            )
        )
    log.info("partition created", extra={"partition": name})
    return True


async def list_partition_days(conn: psycopg.AsyncConnection[Any]) -> list[dt.date]:
    """The days of the daily partitions attached to spans, oldest first."""
    rows = await (await conn.execute(_LIST)).fetchall()
    days = []
    for (name,) in rows:
        match = _NAME.match(name)
        if match:
            days.append(dt.datetime.strptime(match[1], "%Y%m%d").date())
    return sorted(days)


async def drop_partitions_before(
    conn: psycopg.AsyncConnection[Any], first_kept_day: dt.date, lock_timeout_ms: int = 5000
) -> list[str]:
    """Drop the partitions of days before `first_kept_day`; return their names.

    Dropping locks spans exclusively for a moment: a lock timeout gives up (the next run
    retries) rather than queueing every writer behind a long transaction.
    """
    dropped = []
    for day in await list_partition_days(conn):
        if day >= first_kept_day:
            break
        name = partition_name(day)
        async with conn.transaction():
            await conn.execute(
                sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(lock_timeout_ms))
            )
            await conn.execute(sql.SQL(_DROP).format(partition=sql.Identifier(name)))
        dropped.append(name)
        log.info("partition dropped", extra={"partition": name})
    return dropped
