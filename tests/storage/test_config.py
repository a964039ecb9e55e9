"""The storage settings: retention and housekeeping read once, every bad variable named."""

from __future__ import annotations

import datetime as dt

import pytest

from services.storage.config import RetentionConfig, load_config
from services.storage.partitions import partition_window
from shared.errors import ConfigError


def test_defaults() -> None:
    config = load_config({})
    assert config.retention == RetentionConfig(
        spans_days=30, rollup_1m_days=7, rollup_1h_days=90, rollup_1d_days=730,
        metric_points_days=30, log_records_days=30,
    )  # fmt: skip
    assert (config.housekeeping_interval_seconds, config.partition_ahead_days) == (3600, 3)
    assert config.consumer_max_idle_seconds == 3600
    assert config.toast_compression == "lz4"
    assert partition_window(config).lookback_days == 30


def test_retention_from_the_environment() -> None:
    config = load_config({"RETENTION_SPANS_DAYS": "14", "RETENTION_ROLLUP_1D_DAYS": "3650",
                          "STORAGE_PARTITION_AHEAD_DAYS": "7"})  # fmt: skip
    assert config.retention.days_by_class()["spans"] == 14
    assert config.retention.days_by_class()["rollup_1d"] == 3650
    days = partition_window(config).days_ahead(dt.date(2026, 1, 1))
    assert (days[0], days[-1]) == (dt.date(2026, 1, 1), dt.date(2026, 1, 8))


def test_every_bad_variable_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"RETENTION_SPANS_DAYS": "2", "RETENTION_ROLLUP_1M_DAYS": "x",
                     "STORAGE_CONSUMER_MAX_IDLE_SECONDS": "5",
                     "STORAGE_TOAST_COMPRESSION": "zstd"})  # fmt: skip
    message = str(caught.value)
    assert "RETENTION_SPANS_DAYS=2 must be at least 4" in message
    assert "RETENTION_ROLLUP_1M_DAYS='x' is not an integer" in message
    assert "STORAGE_CONSUMER_MAX_IDLE_SECONDS=5 must be at least 60" in message
    assert "STORAGE_TOAST_COMPRESSION='zstd' must be one of lz4, pglz" in message
