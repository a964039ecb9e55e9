"""The API service's settings, read once from the environment at startup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.config import EnvReader
from shared.usage_limits import parse_defaults


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """Everything the API reads from its environment."""

    database_url: str = field(repr=False)
    redis_url: str = field(repr=False)
    host: str = "0.0.0.0"
    port: int = 8080
    metrics_port: int = 9092
    db_pool_min_size: int = 1
    db_pool_max_size: int = 8
    statement_timeout_ms: int = 10000
    default_project: str = "default"
    dev_mode: bool = False
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    admin_key: str = field(default="", repr=False)
    key_pepper: str = field(default="", repr=False)
    key_cache_ttl_seconds: int = 60
    key_cache_max_stale_seconds: int = 3600
    rate_limit_requests: int = 600
    rate_limit_window: int = 60
    cache_open_ttl_seconds: int = 15
    cache_closed_ttl_seconds: int = 86400
    cache_settle_seconds: int = 300
    max_raw_range_days: int = 31
    # LLM usage limits (ADR 0010) and budgets (ADR 0015).
    limits_defaults: str = ""
    limits_burst_percent: int = 0
    is_limits_cascading: bool = True
    limits_lease_ttl_seconds: int = 300
    budget_evaluation_seconds: int = 60
    budget_webhook_timeout_seconds: int = 5


def load_config(environ: Mapping[str, str]) -> ApiConfig:
    """Build the config from the environment; raise ConfigError naming every bad variable."""
    env = EnvReader(environ)
    config = ApiConfig(
        database_url=env.text(
            "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/llm_observatory"
        ),
        redis_url=env.text("REDIS_URL", "redis://127.0.0.1:6379/0"),
        host=env.text("API_HOST", "0.0.0.0"),
        port=env.integer("API_PORT", 8080, maximum=65535),
        metrics_port=env.integer("API_METRICS_PORT", 9092, maximum=65535),
        db_pool_min_size=env.integer("DB_POOL_MIN_SIZE", 1, minimum=1),
        db_pool_max_size=env.integer("DB_POOL_MAX_SIZE", 8, minimum=1),
        statement_timeout_ms=env.integer("API_STATEMENT_TIMEOUT_MS", 10000, minimum=1),
        default_project=env.text("LLMOBS_DEFAULT_PROJECT", "default"),
        dev_mode=env.flag("LLMOBS_DEV_MODE", False),
        cors_origins=env.words("CORS_ORIGINS"),
        log_level=env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        admin_key=env.text("LLMOBS_ADMIN_KEY", ""),
        key_pepper=env.text("LLMOBS_KEY_PEPPER", ""),
        key_cache_ttl_seconds=env.integer("PROJECT_CACHE_TTL_SECONDS", 60),
        key_cache_max_stale_seconds=env.integer("PROJECT_CACHE_MAX_STALE_SECONDS", 3600),
        rate_limit_requests=env.integer("RATE_LIMIT_REQUESTS", 600, maximum=1_000_000),
        rate_limit_window=env.integer("RATE_LIMIT_WINDOW", 60, minimum=1, maximum=86400),
        cache_open_ttl_seconds=env.integer("API_CACHE_OPEN_TTL_SECONDS", 15, minimum=1),
        cache_closed_ttl_seconds=env.integer("API_CACHE_CLOSED_TTL_SECONDS", 86400, minimum=1),
        cache_settle_seconds=env.integer("API_CACHE_SETTLE_SECONDS", 300),
        max_raw_range_days=env.integer("API_MAX_RAW_RANGE_DAYS", 31, minimum=1),
        limits_defaults=env.text("LIMITS_DEFAULTS", ""),
        limits_burst_percent=env.integer("LIMITS_BURST_PERCENT", 0, maximum=1000),
        is_limits_cascading=env.flag("LIMITS_CASCADE", True),
        limits_lease_ttl_seconds=env.integer(
            "LIMITS_LEASE_TTL_SECONDS", 300, minimum=1, maximum=86400
        ),
        budget_evaluation_seconds=env.integer("BUDGET_EVALUATION_SECONDS", 60, minimum=1),
        budget_webhook_timeout_seconds=env.integer(
            "BUDGET_WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1, maximum=60
        ),
    )
    try:
        parse_defaults(config.limits_defaults, config.limits_burst_percent)
    except ValueError as exc:
        env.problems.append(f"LIMITS_DEFAULTS: {exc}")
    env.check()
    return config
