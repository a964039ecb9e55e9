"""The collector's settings for keys, quotas, CORS and REST: read once, every problem named."""

from __future__ import annotations

import pytest

from services.collector.config import load_config
from shared.errors import ConfigError


def test_front_door_settings_are_read() -> None:
    config = load_config({
        "DATABASE_URL": "postgresql://u:secret@db/x", "LLMOBS_KEY_PEPPER": "hush",
        "CORS_ORIGINS": "https://a.example, http://localhost:3000",
        "INGEST_RATE_LIMIT_REQUESTS_PER_SECOND": "50", "INGEST_RATE_LIMIT_SPANS_PER_SECOND": "0",
        "INGEST_RATE_LIMIT_BURST_SECONDS": "3", "PROJECT_CACHE_TTL_SECONDS": "30",
        "REST_OPEN_SPAN_TTL_SECONDS": "3600",
    })  # fmt: skip
    assert config.cors_origins == ("https://a.example", "http://localhost:3000")
    assert (config.ingest_requests_per_second, config.ingest_spans_per_second) == (50, 0)
    assert (config.ingest_burst_seconds, config.project_cache_ttl_seconds) == (3, 30)
    assert config.rest_open_span_ttl_seconds == 3600
    assert "hush" not in repr(config) and "secret" not in repr(config)


def test_every_bad_setting_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({
            "INGEST_RATE_LIMIT_REQUESTS_PER_SECOND": "-1",
            "INGEST_RATE_LIMIT_SPANS_PER_SECOND": "x",
            "INGEST_RATE_LIMIT_BURST_SECONDS": "0",
            "REST_OPEN_SPAN_TTL_SECONDS": "5",
        })  # fmt: skip
    message = str(caught.value)
    for name in ("INGEST_RATE_LIMIT_REQUESTS_PER_SECOND", "INGEST_RATE_LIMIT_SPANS_PER_SECOND",
                 "INGEST_RATE_LIMIT_BURST_SECONDS", "REST_OPEN_SPAN_TTL_SECONDS"):  # fmt: skip
        assert name in message
