"""Periodic housekeeping of the storage service: partitions ahead, retention, idle consumers."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.storage.backend import detect_backend
from services.storage.config import StorageConfig
from services.storage.consume import StreamConsumer
from services.storage.metrics import StorageMetrics
from services.storage.partitions import ensure_partitions, partition_window
from services.storage.retention import RetentionReport, run_retention

log = logging.getLogger(__name__)


class Housekeeper:
    """Runs every housekeeping step now and then at a fixed interval, until stopped."""

    def __init__(
        self,
        config: StorageConfig,
        pool: AsyncConnectionPool[Any],
        consumer: StreamConsumer,
        metrics: StorageMetrics,
    ) -> None:
        self._config = config
        self._pool = pool
        self._consumer = consumer
        self._metrics = metrics
        self._stopping = asyncio.Event()
        self.last_report: RetentionReport | None = None

    def stop(self) -> None:
        """Ask the loop to return after the step in hand."""
        self._stopping.set()

    async def run(self) -> None:
        """Loop until stopped: a supervision point, so a failed step is logged and counted, and
        the next steps and runs go on."""
        while not self._stopping.is_set():
            for step in (self.create_partitions_ahead, self.apply_retention,
                         self.delete_idle_consumers):  # fmt: skip
                try:
                    await step()
                except Exception:
                    self._metrics.housekeeping_errors.labels(step.__name__).inc()
                    log.exception("housekeeping step failed", extra={"step": step.__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=self._config.housekeeping_interval_seconds
                )

    async def create_partitions_ahead(self) -> None:
        """On plain PostgreSQL, create today's partition and those of the days ahead."""
        async with self._pool.connection() as conn:
            if not (await detect_backend(conn)).keeps_partitions:
                return
            today = dt.datetime.now(dt.UTC).date()
            created = await ensure_partitions(
                conn, partition_window(self._config).days_ahead(today)
            )
        self._metrics.partitions_created.inc(created)

    async def apply_retention(self) -> RetentionReport:
        """Apply retention once (see services.storage.retention) and count what it removed."""
        report = await run_retention(
            self._pool, self._config.retention, self._config.retention_batch_rows
        )
        if not report.skipped:
            for relation, rows in report.deleted_rows.items():
                self._metrics.retention_deleted.labels(relation).inc(rows)
            self._metrics.partitions_dropped.inc(len(report.dropped_partitions))
            self._metrics.retention_runs.inc()
        self.last_report = report
        return report

    async def delete_idle_consumers(self) -> None:
        """Remove consumers of the group left behind by restarts (nothing pending, idle)."""
        removed = await self._consumer.delete_idle_consumers(
            self._config.consumer_max_idle_seconds * 1000
        )
        if removed:
            self._metrics.consumers_deleted.inc(len(removed))
            log.info("idle consumers deleted", extra={"consumers": removed})
