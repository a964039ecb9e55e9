"""The storage service's settings, read once from the environment at startup."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.config import EnvReader
from shared.handoff import DEFAULT_DEAD_LETTER_STREAM, DEFAULT_GROUP, DEFAULT_STREAM


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    """Days each data class is kept, for every project (project_retention may shorten them)."""

    spans_days: int = 30
    rollup_1m_days: int = 7
    rollup_1h_days: int = 90
    rollup_1d_days: int = 730
    metric_points_days: int = 30
    log_records_days: int = 30

    def days_by_class(self) -> dict[str, int]:
        """Data class name (as in project_retention.data_class) -> days kept."""
        return {
            "spans": self.spans_days,
            "rollup_1m": self.rollup_1m_days,
            "rollup_1h": self.rollup_1h_days,
            "rollup_1d": self.rollup_1d_days,
            "metric_points": self.metric_points_days,
            "log_records": self.log_records_days,
        }


# Retention never goes below the refresh windows of the rollups (migration 005: up to 3 days),
# as project_retention's CHECK says too.
MIN_RETENTION_DAYS = 4
MAX_RETENTION_DAYS = 36_500


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """Everything the storage service reads from its environment."""

    database_url: str = field(repr=False)
    redis_url: str = field(repr=False)
    stream: str = DEFAULT_STREAM
    dead_letter_stream: str = DEFAULT_DEAD_LETTER_STREAM
    group: str = DEFAULT_GROUP
    consumer_name: str = ""
    max_batch_spans: int = 5000
    flush_interval_ms: int = 200
    claim_idle_seconds: int = 30
    host: str = "0.0.0.0"
    http_port: int = 8081
    metrics_port: int = 9093
    db_pool_min_size: int = 1
    db_pool_max_size: int = 4
    # How PostgreSQL compresses large values (messages, attributes) as they are written (ADR 0017).
    toast_compression: str = "lz4"
    log_level: str = "INFO"
    migrate_on_start: bool = True
    # Mixed into API key hashes by the key commands; the collector and API use the same value.
    key_pepper: str = field(default="", repr=False)
    # The operator's key (as the API's): may re-price any project on the admin API.
    admin_key: str = field(default="", repr=False)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    retention_batch_rows: int = 5000
    housekeeping_interval_seconds: int = 3600
    partition_ahead_days: int = 3
    consumer_max_idle_seconds: int = 3600


def load_config(environ: Mapping[str, str]) -> StorageConfig:
    """Build the config from the environment; raise ConfigError naming every bad variable."""
    env = EnvReader(environ)
    config = StorageConfig(
        database_url=env.text(
            "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/llm_observatory"
        ),
        redis_url=env.text("REDIS_URL", "redis://127.0.0.1:6379/0"),
        stream=env.text("HANDOFF_STREAM", DEFAULT_STREAM),
        dead_letter_stream=env.text("HANDOFF_DEAD_LETTER_STREAM", DEFAULT_DEAD_LETTER_STREAM),
        group=env.text("HANDOFF_GROUP", DEFAULT_GROUP),
        consumer_name=env.text("STORAGE_CONSUMER_NAME", f"{socket.gethostname()}-{os.getpid()}"),
        max_batch_spans=env.integer("STORAGE_BATCH_MAX_SPANS", 5000, minimum=1),
        flush_interval_ms=env.integer("STORAGE_FLUSH_INTERVAL_MS", 200, minimum=1),
        claim_idle_seconds=env.integer("STORAGE_CLAIM_IDLE_SECONDS", 30, minimum=1),
        host=env.text("STORAGE_HOST", "0.0.0.0"),
        http_port=env.integer("STORAGE_HTTP_PORT", 8081, maximum=65535),
        metrics_port=env.integer("STORAGE_METRICS_PORT", 9093, maximum=65535),
        db_pool_min_size=env.integer("DB_POOL_MIN_SIZE", 1, minimum=1),
        db_pool_max_size=env.integer("DB_POOL_MAX_SIZE", 4, minimum=1),
        toast_compression=env.choice("STORAGE_TOAST_COMPRESSION", "lz4", ("lz4", "pglz")),
        log_level=env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        migrate_on_start=env.flag("STORAGE_MIGRATE_ON_START", True),
        key_pepper=env.text("LLMOBS_KEY_PEPPER", ""),
        admin_key=env.text("LLMOBS_ADMIN_KEY", ""),
        retention=_load_retention(env),
        retention_batch_rows=env.integer("STORAGE_RETENTION_BATCH_ROWS", 5000, minimum=1),
        housekeeping_interval_seconds=env.integer(
            "STORAGE_HOUSEKEEPING_INTERVAL_SECONDS", 3600, minimum=1
        ),
        partition_ahead_days=env.integer("STORAGE_PARTITION_AHEAD_DAYS", 3, maximum=365),
        consumer_max_idle_seconds=env.integer(
            "STORAGE_CONSUMER_MAX_IDLE_SECONDS", 3600, minimum=60
        ),
    )
    env.check()
    return config


def _load_retention(env: EnvReader) -> RetentionConfig:
    low, high = MIN_RETENTION_DAYS, MAX_RETENTION_DAYS
    return RetentionConfig(
        spans_days=env.integer("RETENTION_SPANS_DAYS", 30, minimum=low, maximum=high),
        rollup_1m_days=env.integer("RETENTION_ROLLUP_1M_DAYS", 7, minimum=low, maximum=high),
        rollup_1h_days=env.integer("RETENTION_ROLLUP_1H_DAYS", 90, minimum=low, maximum=high),
        rollup_1d_days=env.integer("RETENTION_ROLLUP_1D_DAYS", 730, minimum=low, maximum=high),
        metric_points_days=env.integer(
            "RETENTION_METRIC_POINTS_DAYS", 30, minimum=low, maximum=high
        ),
        log_records_days=env.integer("RETENTION_LOG_RECORDS_DAYS", 30, minimum=low, maximum=high),
    )
