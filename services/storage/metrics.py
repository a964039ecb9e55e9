"""Prometheus metrics of the storage service (`storage_*`), on a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.process_collector import ProcessCollector


class StorageMetrics:
    """The writer's counters, histograms and gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        r = self.registry
        self.rows_written = Counter(
            "storage_rows_written_total", "Rows newly written, by table.", ["table"], registry=r
        )
        self.batch_size = Histogram(
            "storage_batch_size_spans", "Records (of every signal) per written batch.",
            buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000), registry=r,
        )  # fmt: skip
        self.batch_duration = Histogram(
            "storage_batch_duration_seconds", "Time to write and commit one batch.", registry=r
        )
        self.flushes = Counter("storage_flushes_total", "Batches committed.", registry=r)
        self.retries = Counter(
            "storage_write_retries_total", "Batch writes retried after an error.", ["reason"],
            registry=r,
        )  # fmt: skip
        self.dead_letters = Counter(
            "storage_dead_letters_total", "Entries moved to the dead-letter stream.", registry=r
        )
        self.redelivered = Counter(
            "storage_redelivered_spans_total",
            "Records (spans, metric points, log records) received again that were already stored"
            " (idempotent skips).", registry=r,
        )  # fmt: skip
        self.claimed = Counter(
            "storage_claimed_entries_total", "Stale entries taken over from other consumers.",
            registry=r,
        )  # fmt: skip
        self.stream_length = Gauge(
            "storage_stream_length", "Entries in the hand-off stream (backlog).", registry=r
        )
        self.pending = Gauge(
            "storage_stream_pending", "Entries delivered but not yet acknowledged.", registry=r
        )
        self.freshness = Histogram(
            "storage_ingest_to_queryable_seconds",
            "From collector receipt to commit, per record.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300), registry=r,
        )  # fmt: skip
        self.last_error = Gauge(
            "storage_last_error_timestamp_seconds", "Unix time of the last write error.",
            registry=r,
        )  # fmt: skip
        self.retention_runs = Counter(
            "storage_retention_runs_total", "Retention runs completed.", registry=r
        )
        self.retention_deleted = Counter(
            "storage_retention_deleted_rows_total", "Rows deleted by retention, by relation.",
            ["relation"], registry=r,
        )  # fmt: skip
        self.partitions_created = Counter(
            "storage_partitions_created_total", "Daily span partitions created.", registry=r
        )
        self.partitions_dropped = Counter(
            "storage_partitions_dropped_total", "Daily span partitions dropped by retention.",
            registry=r,
        )  # fmt: skip
        self.consumers_deleted = Counter(
            "storage_consumers_deleted_total",
            "Idle consumers without pending entries removed from the group.", registry=r,
        )  # fmt: skip
        self.housekeeping_errors = Counter(
            "storage_housekeeping_errors_total", "Housekeeping steps that failed, by step.",
            ["step"], registry=r,
        )  # fmt: skip
