"""The storage loop: collect a micro-batch, write it in one transaction, then acknowledge it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool
from redis.exceptions import RedisError, ResponseError

from services.storage.batcher import PendingBatch, collect_batch
from services.storage.config import StorageConfig
from services.storage.consume import Entry, StreamConsumer
from services.storage.log_records import log_rows
from services.storage.metric_points import point_rows
from services.storage.metrics import StorageMetrics
from services.storage.partitions import partition_window
from services.storage.rows import span_rows
from services.storage.writer import BatchRows, BatchWriter, Written
from shared.errors import BadInputError
from shared.handoff import SIGNAL_LOGS, SIGNAL_METRICS, SIGNAL_TRACES, SIGNALS, Batch, decode_entry

log = logging.getLogger(__name__)

_MAX_BACKOFF_SECONDS = 10.0
# The database's state, not a record, is at fault: wait and retry, never dead-letter. A full
# disk and a cancelled statement are OperationalErrors; a database switched to read-only and a
# revoked grant are not, and would otherwise dead-letter the whole backlog record by record.
_TRANSIENT_DB_ERRORS = (
    psycopg.OperationalError,
    psycopg.errors.DeadlockDetected,
    psycopg.errors.ReadOnlySqlTransaction,
    psycopg.errors.InsufficientPrivilege,
)


@dataclass(slots=True)
class IngestState:
    """What `/stats` and `/health/detailed` report about the loop."""

    batches: int = 0
    spans_written: int = 0
    metric_points_written: int = 0
    log_records_written: int = 0
    # Records of every signal in the last batch.
    last_batch_spans: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    started_at: float = field(default_factory=time.time)
    # (committed at, spans in the batch, spans new) of the latest batches.
    recent_batches: deque[tuple[float, int, int]] = field(default_factory=lambda: deque(maxlen=512))


class Ingestor:
    """Moves batches from the stream into the database; never acknowledges before commit."""

    def __init__(
        self,
        config: StorageConfig,
        consumer: StreamConsumer,
        pool: AsyncConnectionPool[Any],
        metrics: StorageMetrics,
    ) -> None:
        self._config = config
        self._consumer = consumer
        self._pool = pool
        self._metrics = metrics
        self._writer = BatchWriter(partition_window(config))
        self._stopping = asyncio.Event()
        self._failures = 0
        self.state = IngestState()

    def stop(self) -> None:
        """Ask the loop to finish its current batch and return."""
        self._stopping.set()

    async def run(self) -> None:
        """Run until stopped: supervision point, so errors are logged, counted and retried."""
        await self._consumer.ensure_group()
        next_claim = time.monotonic()
        while not self._stopping.is_set():
            try:
                if time.monotonic() >= next_claim:
                    await self._claim_stale()
                    next_claim = time.monotonic() + self._config.claim_idle_seconds / 2
                batch = await collect_batch(
                    self._consumer, self._config.max_batch_spans, self._config.flush_interval_ms
                )
                if batch.entries:
                    await self._process(batch)
                await self._update_lag()
            except ResponseError as exc:
                await self._back_off("redis", exc)
                if "NOGROUP" in str(exc):
                    # Redis came back without the stream (restarted without persistence, or
                    # flushed): create the group again so that new batches are read.
                    await self._recreate_group()
            except (RedisError, OSError) as exc:
                await self._back_off("redis", exc)
            else:
                self._failures = 0

    async def _recreate_group(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._consumer.ensure_group()
            log.error("the hand-off stream's consumer group was missing and has been recreated")

    async def _claim_stale(self) -> None:
        entries = await self._consumer.claim_stale(count=256)
        if entries:
            self._metrics.claimed.inc(len(entries))
            log.info("claimed stale entries", extra={"entries": len(entries)})
            batch = PendingBatch()
            batch.add(entries)
            await self._process(batch)

    async def _process(self, batch: PendingBatch) -> None:
        # Records by signal: one transaction writes spans, metric points and log records.
        records: dict[str, list[dict[str, Any]]] = {signal: [] for signal in SIGNALS}
        good: list[bytes] = []
        for entry in batch.entries:
            decoded = await self._decode(entry)
            if decoded is not None:
                records[decoded.signal].extend(decoded.records)
                good.append(entry.entry_id)
        if any(records.values()) and not await self._write_until_committed(records):
            return  # stopping with the database down: the entries stay pending, redelivered later
        await self._consumer.acknowledge(good)

    async def _decode(self, entry: Entry) -> Batch | None:
        if entry.fields is None:
            await self._consumer.acknowledge([entry.entry_id])
            return None
        try:
            batch = decode_entry(entry.fields)
            if batch.signal not in SIGNALS:
                raise BadInputError(f"unknown signal {batch.signal!r}")
        except BadInputError as exc:
            log.error("dead-lettered an unreadable entry", extra={"error": str(exc)})
            self._metrics.dead_letters.inc()
            await self._consumer.dead_letter(self._config.dead_letter_stream, entry, str(exc))
            return None
        return batch

    async def _write_until_committed(self, records: dict[str, list[dict[str, Any]]]) -> bool:
        """Write, retrying transient errors; False only when asked to stop before a commit."""
        rows = _rows(records)
        while not self._stopping.is_set():
            started = time.perf_counter()
            try:
                async with self._pool.connection() as conn:
                    written = await self._writer.write(conn, rows)
            except _TRANSIENT_DB_ERRORS as exc:
                await self._back_off("database", exc)
                continue
            except psycopg.Error as exc:  # the database refuses a record: find it, keep the rest
                log.warning("batch refused; writing its records one by one",
                            extra={"error": type(exc).__name__})  # fmt: skip
                return await self._write_isolating_poison(records)
            self._failures = 0
            self._record_write(records, written, time.perf_counter() - started)
            return True
        return False

    async def _write_isolating_poison(self, records: dict[str, list[dict[str, Any]]]) -> bool:
        """Write each record in its own transaction; a record the database refuses goes to the
        dead-letter stream with the error, every other one is stored."""
        for signal, batch in records.items():
            for record in batch:
                single = {name: [record] if name == signal else [] for name in SIGNALS}
                while True:
                    if self._stopping.is_set():
                        return False
                    try:
                        async with self._pool.connection() as conn:
                            written = await self._writer.write(conn, _rows(single))
                    except _TRANSIENT_DB_ERRORS as exc:
                        await self._back_off("database", exc)
                        continue
                    except psycopg.Error as exc:
                        await self._dead_letter_record(signal, record, exc)
                        break
                    self._record_write(single, written, 0.0)
                    break
        return True

    async def _dead_letter_record(
        self, signal: str, record: dict[str, Any], exc: psycopg.Error
    ) -> None:
        error = f"{type(exc).__name__}: {exc.diag.message_primary or exc}"
        log.error("dead-lettered a record the database refuses", extra={"error": error})
        self._metrics.dead_letters.inc()
        await self._consumer.dead_letter_records(
            self._config.dead_letter_stream, signal, str(record.get("project_id", "")), [record],
            error,
        )  # fmt: skip

    def _record_write(
        self, records: dict[str, list[dict[str, Any]]], written: Written, seconds: float
    ) -> None:
        now_ns = time.time_ns()
        metrics = self._metrics
        total = sum(len(batch) for batch in records.values())
        total_written = written.spans + written.metric_points + written.log_records
        metrics.flushes.inc()
        metrics.batch_size.observe(total)
        metrics.batch_duration.observe(seconds)
        metrics.rows_written.labels("spans").inc(written.spans)
        metrics.rows_written.labels("metric_points").inc(written.metric_points)
        metrics.rows_written.labels("log_records").inc(written.log_records)
        metrics.redelivered.inc(total - total_written)
        for batch in records.values():
            for record in batch:
                received = record.get("received_unix_nano") or now_ns
                metrics.freshness.observe(max(0, now_ns - received) / 1e9)
        state = self.state
        state.batches += 1
        state.spans_written += written.spans
        state.metric_points_written += written.metric_points
        state.log_records_written += written.log_records
        state.last_batch_spans = total
        state.recent_batches.append((time.time(), total, total_written))

    async def _back_off(self, reason: str, exc: Exception) -> None:
        self._metrics.retries.labels(reason).inc()
        self._metrics.last_error.set_to_current_time()
        self.state.last_error = f"{reason}: {type(exc).__name__}: {exc}"
        self.state.last_error_at = time.time()
        log.warning("write retried", extra={"reason": reason, "error": type(exc).__name__})
        self._failures += 1
        delay = min(_MAX_BACKOFF_SECONDS, 0.25 * 2 ** min(self._failures, 6))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _update_lag(self) -> None:
        length, pending = await self._consumer.lag()
        self._metrics.stream_length.set(length)
        self._metrics.pending.set(pending)


def _rows(records: dict[str, list[dict[str, Any]]]) -> BatchRows:
    """The staging rows of records grouped by signal."""
    return BatchRows(
        spans=span_rows(records[SIGNAL_TRACES]),
        metric_points=point_rows(records[SIGNAL_METRICS]),
        log_records=log_rows(records[SIGNAL_LOGS]),
    )
