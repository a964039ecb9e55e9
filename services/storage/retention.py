"""Retention per data class: raw spans with their traces, the three rollup levels, and the
signal tables (metric points, log records) when they exist.

Global days come from the environment. On TimescaleDB the retention policies carry them (their
drop_after is set here, then the jobs run now); on PostgreSQL old day partitions are dropped and
the other tables are deleted from in bounded batches. project_retention shortens a class for one
project: that project's older rows are deleted in bounded batches on both paths.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from services.storage.backend import Backend, detect_backend
from services.storage.config import RetentionConfig
from services.storage.partitions import drop_partitions_before
from services.storage.trace_counts import DELETE_TRACES, DROP_EMPTY_HOURS

log = logging.getLogger(__name__)

# One run at a time across storage processes (pg_try_advisory_lock key).
_LOCK_KEY = 0x4C4C4D4F5254
_ROLLUP_CLASSES = ("rollup_1m", "rollup_1h", "rollup_1d")
# Relations of each rollup level; on TimescaleDB the continuous aggregates themselves (the
# latency_hist_* views read two of them each).
_ROLLUPS: dict[Backend, dict[str, tuple[str, ...]]] = {
    Backend.POSTGRES: {
        f"rollup_{level}": (f"usage_{level}", f"latency_hist_{level}", f"sampled_out_{level}")
        for level in ("1m", "1h", "1d")
    },
    Backend.TIMESCALE: {
        f"rollup_{level}": (
            f"usage_{level}",
            f"duration_hist_{level}",
            f"ttft_hist_{level}",
            f"sampled_out_{level}",
        )
        for level in ("1m", "1h", "1d")
    },
}
_SIGNAL_TABLES = {"metric_points": "metric_points", "log_records": "log_records"}
# The time column of a signal table: its partition key if it has one, else a usual name.
_TIME_COLUMN = """
SELECT a.attname FROM pg_attribute a
LEFT JOIN pg_partitioned_table p ON p.partrelid = a.attrelid
WHERE a.attrelid = to_regclass(%(table)s) AND NOT a.attisdropped
  AND a.atttypid = 'timestamptz'::regtype
  AND (a.attnum = ANY (p.partattrs::int2[])
       OR a.attname IN ('time', 'timestamp', 'observed_time', 'start_time'))
ORDER BY a.attnum = ANY (coalesce(p.partattrs::int2[], '{}')) DESC,
         array_position(ARRAY['time', 'timestamp', 'observed_time', 'start_time'], a.attname::text)
LIMIT 1
"""
_HAS_PROJECT = """
SELECT EXISTS (SELECT 1 FROM pg_attribute
               WHERE attrelid = to_regclass(%s) AND attname = 'project_id' AND NOT attisdropped)
"""
_OVERRIDES = """
SELECT project_id, data_class, retention_days FROM project_retention
ORDER BY project_id, data_class
"""
_RETENTION_JOB = """
SELECT job_id FROM timescaledb_information.jobs
WHERE proc_name = 'policy_retention' AND hypertable_schema = current_schema()
  AND hypertable_name = %s
"""
_ADD_RETENTION_POLICY = "SELECT add_retention_policy(%s, drop_after => %s::interval)"
_SET_DROP_AFTER = """
SELECT alter_job(job_id, config => config || jsonb_build_object('drop_after', %(drop_after)s::text))
FROM timescaledb_information.jobs WHERE job_id = %(job_id)s
"""
_IS_HYPERTABLE = """
SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables
               WHERE hypertable_schema = current_schema() AND hypertable_name = %s)
"""
_MATERIALIZATION = """
SELECT materialization_hypertable_schema, materialization_hypertable_name
FROM timescaledb_information.continuous_aggregates
WHERE view_schema = current_schema() AND view_name = %s
"""


@dataclass(slots=True)
class RetentionReport:
    """What one run removed (rows per relation, partitions, retention jobs run)."""

    backend: str = ""
    deleted_rows: dict[str, int] = field(default_factory=dict)
    dropped_partitions: list[str] = field(default_factory=list)
    retention_jobs_run: list[int] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)
    skipped: bool = False
    seconds: float = 0.0

    def count(self, relation: str, rows: int) -> None:
        """Add rows deleted from `relation`."""
        self.deleted_rows[relation] = self.deleted_rows.get(relation, 0) + rows


async def run_retention(
    pool: AsyncConnectionPool[Any], config: RetentionConfig, batch_rows: int
) -> RetentionReport:
    """Apply retention once; skipped (and said so) while another process is applying it."""
    started = time.perf_counter()
    async with pool.connection() as conn:
        backend = await detect_backend(conn)
        report = RetentionReport(backend=backend.value)
        row = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,))).fetchone()
        if not (row and row[0]):
            report.skipped = True
            return report
        try:
            run = _Run(conn, backend, config, batch_rows, report)
            await run.apply_global()
            await run.apply_projects()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    report.seconds = round(time.perf_counter() - started, 3)
    log.info("retention applied", extra={"deleted_rows": report.deleted_rows,
             "dropped_partitions": report.dropped_partitions})  # fmt: skip
    return report


class _Run:
    """One retention run on one connection (autocommit: every batch commits on its own)."""

    def __init__(
        self,
        conn: psycopg.AsyncConnection[Any],
        backend: Backend,
        config: RetentionConfig,
        batch_rows: int,
        report: RetentionReport,
    ) -> None:
        self._conn = conn
        self._backend = backend
        self._days = config.days_by_class()
        self._batch_rows = batch_rows
        self._report = report
        self._now = dt.datetime.now(dt.UTC)

    def _cutoff(self, days: int) -> dt.datetime:
        return self._now - dt.timedelta(days=days)

    async def apply_global(self) -> None:
        """Every class at its global retention, for all projects."""
        await self._expire_spans(self._days["spans"])
        for data_class in _ROLLUP_CLASSES:
            for relation in _ROLLUPS[self._backend][data_class]:
                await self._expire_rollup(relation, self._days[data_class])
        for data_class, table in _SIGNAL_TABLES.items():
            await self._expire_signal_table(table, self._days[data_class], None)

    async def apply_projects(self) -> None:
        """The shorter retentions of project_retention, project by project."""
        for project_id, data_class, days in await (await self._conn.execute(_OVERRIDES)).fetchall():
            if days >= self._days[data_class]:
                continue  # only ever shortens: partitions and chunks follow the global setting
            cutoff = self._cutoff(days)
            if data_class == "spans":
                await self._delete_by_time(sql.Identifier("spans"), "spans", "start_time",
                                           cutoff, project_id)  # fmt: skip
                await self._delete_traces(
                    "project_id = %(project)s AND start_time < %(cutoff)s",
                    {"project": project_id, "cutoff": cutoff},
                )  # fmt: skip
            elif data_class in _ROLLUP_CLASSES:
                for relation in _ROLLUPS[self._backend][data_class]:
                    await self._delete_project_rollup(relation, project_id, cutoff)
            else:
                await self._expire_signal_table(_SIGNAL_TABLES[data_class], days, project_id)

    async def _expire_spans(self, days: int) -> None:
        cutoff = self._cutoff(days)
        if self._backend is Backend.TIMESCALE:
            await self._run_retention_policy("spans", days)
        else:
            dropped = await drop_partitions_before(self._conn, cutoff.date())
            self._report.dropped_partitions.extend(dropped)
            await self._delete_by_ctid("spans_default", "start_time < %(cutoff)s",
                                       {"cutoff": cutoff})  # fmt: skip
        await self._delete_traces("start_time < %(cutoff)s", {"cutoff": cutoff})

    async def _expire_rollup(self, relation: str, days: int) -> None:
        if self._backend is Backend.TIMESCALE:
            await self._run_retention_policy(relation, days)
        else:
            await self._delete_by_ctid(relation, "bucket_start < %(cutoff)s",
                                       {"cutoff": self._cutoff(days)})  # fmt: skip

    async def _delete_project_rollup(
        self, relation: str, project_id: str, cutoff: dt.datetime
    ) -> None:
        if self._backend is Backend.POSTGRES:
            await self._delete_by_ctid(
                relation, "project_id = %(project)s AND bucket_start < %(cutoff)s",
                {"project": project_id, "cutoff": cutoff},
            )  # fmt: skip
            return
        # A continuous aggregate is read-only: delete from its materialisation hypertable.
        row = await (await self._conn.execute(_MATERIALIZATION, (relation,))).fetchone()
        if row is None:
            self._report.missing_tables.append(relation)
            return
        table = sql.Identifier(row[0], row[1])
        await self._delete_by_time(table, relation, "bucket_start", cutoff, project_id)

    async def _expire_signal_table(self, table: str, days: int, project_id: str | None) -> None:
        """Guarded by existence: the signal tables come with a later migration."""
        time_row = await (await self._conn.execute(_TIME_COLUMN, {"table": table})).fetchone()
        if time_row is None:
            if table not in self._report.missing_tables:
                self._report.missing_tables.append(table)
            return
        cutoff = self._cutoff(days)
        if project_id is None and self._backend is Backend.TIMESCALE:
            hypertable = await (await self._conn.execute(_IS_HYPERTABLE, (table,))).fetchone()
            if hypertable and hypertable[0]:
                await self._run_retention_policy(table, days)
                return
        if project_id is not None:
            has_project = await (await self._conn.execute(_HAS_PROJECT, (table,))).fetchone()
            if not (has_project and has_project[0]):
                return
        await self._delete_by_time(sql.Identifier(table), table, time_row[0], cutoff, project_id)

    async def _run_retention_policy(self, relation: str, days: int) -> None:
        """Set the TimescaleDB retention policy of `relation` to `days`, then run it now."""
        drop_after = f"{days} days"
        row = await (await self._conn.execute(_RETENTION_JOB, (relation,))).fetchone()
        if row is None:
            row = await (
                await self._conn.execute(_ADD_RETENTION_POLICY, (relation, drop_after))
            ).fetchone()
        if row is None:
            raise RuntimeError(f"no retention policy for {relation}")
        job_id = int(row[0])
        await self._conn.execute(_SET_DROP_AFTER, {"job_id": job_id, "drop_after": drop_after})
        await self._conn.execute("CALL run_job(%s)", (job_id,))
        self._report.retention_jobs_run.append(job_id)

    async def _delete_traces(self, condition: str, params: dict[str, Any]) -> None:
        """Delete traces as `_delete_by_ctid` does, taking each off its hour's count."""
        statement = sql.SQL(DELETE_TRACES).format(condition=sql.SQL(condition))
        params = {**params, "batch_rows": self._batch_rows}
        while True:
            row = await (await self._conn.execute(statement, params)).fetchone()
            deleted = int(row[0]) if row else 0
            self._report.count("traces", deleted)
            if deleted < self._batch_rows:
                break
        await self._conn.execute(DROP_EMPTY_HOURS)

    async def _delete_by_ctid(self, table: str, condition: str, params: dict[str, Any]) -> None:
        """Delete the rows of a plain table matching `condition`, batch_rows per transaction."""
        statement = sql.SQL(
            "DELETE FROM {table} WHERE ctid = ANY(ARRAY("
            "SELECT ctid FROM {table} WHERE {condition} LIMIT %(batch_rows)s))"
        ).format(table=sql.Identifier(table), condition=sql.SQL(condition))
        params = {**params, "batch_rows": self._batch_rows}
        while True:
            cursor = await self._conn.execute(statement, params)
            self._report.count(table, cursor.rowcount)
            if cursor.rowcount < self._batch_rows:
                return

    async def _delete_by_time(
        self,
        table: sql.Composable,
        relation: str,
        time_column: str,
        cutoff: dt.datetime,
        project_id: str | None,
    ) -> None:
        """Delete rows older than `cutoff`, oldest first, in time ranges of about batch_rows
        rows each: range predicates keep partition and chunk pruning (ctid would not)."""
        column = sql.Identifier(time_column)
        scope = sql.SQL("project_id = %(project)s AND " if project_id is not None else "")
        boundary = sql.SQL(
            "SELECT {column} FROM {table} WHERE {scope}{column} < %(cutoff)s"
            " ORDER BY {column} OFFSET %(skip)s LIMIT 1"
        ).format(column=column, table=table, scope=scope)
        up_to = sql.SQL("DELETE FROM {table} WHERE {scope}{column} <= %(until)s").format(
            column=column, table=table, scope=scope
        )
        rest = sql.SQL("DELETE FROM {table} WHERE {scope}{column} < %(cutoff)s").format(
            column=column, table=table, scope=scope
        )
        params: dict[str, Any] = {"project": project_id, "cutoff": cutoff,
                                  "skip": self._batch_rows - 1}  # fmt: skip
        while True:
            row = await (await self._conn.execute(boundary, params)).fetchone()
            if row is None:
                cursor = await self._conn.execute(rest, params)
                self._report.count(relation, cursor.rowcount)
                return
            cursor = await self._conn.execute(up_to, {**params, "until": row[0]})
            self._report.count(relation, cursor.rowcount)
