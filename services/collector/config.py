"""The collector's settings, read once from the environment at startup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.config import EnvReader
from shared.handoff import DEFAULT_STREAM
from shared.usage_limits import parse_defaults


@dataclass(frozen=True, slots=True)
class CollectorConfig:
    """Everything the collector reads from its environment."""

    redis_url: str = field(repr=False)
    host: str = "0.0.0.0"
    grpc_port: int = 4317
    http_port: int = 4318
    metrics_port: int = 9091
    stream: str = DEFAULT_STREAM
    max_stream_entries: int = 20000
    max_request_bytes: int = 16 * 1024 * 1024
    # Bytes of requests received and not yet answered (services/collector/admission.py).
    max_inflight_bytes: int = 32 * 1024 * 1024
    # Several collector processes may share the OTLP ports (SO_REUSEPORT); see ADR 0016.
    reuse_port: bool = False
    body_timeout_seconds: int = 30
    pipeline_file: str = ""
    redact_hash_secret: str = field(default="", repr=False)
    dev_mode: bool = False
    default_project: str = "default"
    log_level: str = "INFO"
    # Projects, API keys and quotas (ADR 0008).
    database_url: str = field(default="", repr=False)
    db_pool_min_size: int = 1
    db_pool_max_size: int = 4
    key_pepper: str = field(default="", repr=False)
    project_cache_ttl_seconds: int = 60
    project_cache_max_stale_seconds: int = 3600
    ingest_requests_per_second: int = 0
    ingest_spans_per_second: int = 0
    ingest_burst_seconds: int = 1
    cors_origins: tuple[str, ...] = ()
    rest_open_span_ttl_seconds: int = 86400
    price_overrides_refresh_seconds: int = 30
    # LLM usage limits fed by observed usage (ADR 0010); the same values as the API's.
    limits_defaults: str = ""
    limits_burst_percent: int = 0
    is_limits_cascading: bool = True


def load_config(environ: Mapping[str, str]) -> CollectorConfig:
    """Build the config from the environment; raise ConfigError naming every bad variable."""
    env = EnvReader(environ)
    config = CollectorConfig(
        redis_url=env.text("REDIS_URL", "redis://127.0.0.1:6379/0"),
        host=env.text("COLLECTOR_HOST", "0.0.0.0"),
        grpc_port=env.integer("COLLECTOR_GRPC_PORT", 4317, maximum=65535),
        http_port=env.integer("COLLECTOR_HTTP_PORT", 4318, maximum=65535),
        metrics_port=env.integer("COLLECTOR_METRICS_PORT", 9091, maximum=65535),
        stream=env.text("HANDOFF_STREAM", DEFAULT_STREAM),
        max_stream_entries=env.integer("HANDOFF_MAX_ENTRIES", 20000, minimum=1),
        max_request_bytes=env.integer(
            "COLLECTOR_MAX_REQUEST_BYTES", 16 * 1024 * 1024, minimum=1024
        ),
        max_inflight_bytes=env.integer(
            "COLLECTOR_MAX_INFLIGHT_BYTES", 32 * 1024 * 1024, minimum=1024
        ),
        reuse_port=env.flag("COLLECTOR_REUSE_PORT", False),
        body_timeout_seconds=env.integer("COLLECTOR_BODY_TIMEOUT_SECONDS", 30, minimum=1),
        pipeline_file=env.text("COLLECTOR_PIPELINE_FILE", ""),
        redact_hash_secret=env.text("REDACT_HASH_SECRET", ""),
        dev_mode=env.flag("LLMOBS_DEV_MODE", False),
        default_project=env.text("LLMOBS_DEFAULT_PROJECT", "default"),
        log_level=env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        database_url=env.text(
            "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/llm_observatory"
        ),
        db_pool_min_size=env.integer("DB_POOL_MIN_SIZE", 1, minimum=1),
        db_pool_max_size=env.integer("DB_POOL_MAX_SIZE", 4, minimum=1),
        key_pepper=env.text("LLMOBS_KEY_PEPPER", ""),
        project_cache_ttl_seconds=env.integer("PROJECT_CACHE_TTL_SECONDS", 60),
        project_cache_max_stale_seconds=env.integer("PROJECT_CACHE_MAX_STALE_SECONDS", 3600),
        ingest_requests_per_second=env.integer("INGEST_RATE_LIMIT_REQUESTS_PER_SECOND", 0),
        ingest_spans_per_second=env.integer("INGEST_RATE_LIMIT_SPANS_PER_SECOND", 0),
        ingest_burst_seconds=env.integer("INGEST_RATE_LIMIT_BURST_SECONDS", 1, minimum=1),
        cors_origins=env.words("CORS_ORIGINS"),
        rest_open_span_ttl_seconds=env.integer("REST_OPEN_SPAN_TTL_SECONDS", 86400, minimum=60),
        price_overrides_refresh_seconds=env.integer(
            "PRICE_OVERRIDES_REFRESH_SECONDS", 30, minimum=1
        ),
        limits_defaults=env.text("LIMITS_DEFAULTS", ""),
        limits_burst_percent=env.integer("LIMITS_BURST_PERCENT", 0, maximum=1000),
        is_limits_cascading=env.flag("LIMITS_CASCADE", True),
    )
    try:
        parse_defaults(config.limits_defaults, config.limits_burst_percent)
    except ValueError as exc:
        env.problems.append(f"LIMITS_DEFAULTS: {exc}")
    env.check()
    return config
