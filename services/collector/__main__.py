"""Entry point: `python -m services.collector` runs the OTLP receivers until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import redis.asyncio as redis

from services.collector.admission import InflightBytes
from services.collector.config import CollectorConfig, load_config
from services.collector.export import StreamExporter
from services.collector.llm_metrics import STEP_TYPE as LLM_METRICS_STEP
from services.collector.llm_metrics import LLMMetrics
from services.collector.metrics import CollectorMetrics
from services.collector.open_spans import OpenSpans
from services.collector.otlp_grpc import build_server
from services.collector.otlp_http import build_app
from services.collector.pipeline import Pipeline, PipelineConfigError, Pipelines, build_pipeline
from services.collector.pipeline_file import PipelineFile
from services.collector.price_overrides import PriceOverrideSource
from services.collector.processors.registry import (
    DEFAULT_STEPS,
    ProcessorContext,
    build_log_steps,
    build_registry,
)
from services.collector.projects import build_resolver
from services.collector.quota import build_quota
from services.collector.receive import Receiver
from services.collector.redaction_metrics import RedactionCollector
from services.collector.rest_ingest import RestIngest
from services.collector.usage_feed import build_usage_feed
from shared.background import cancel_and_wait
from shared.db import open_pool
from shared.errors import ConfigError
from shared.log import configure_logging
from shared.metrics_http import build_metrics_app, start_site

log = logging.getLogger("services.collector")

_GRACE_SECONDS = 5.0
_STARTUP_PRICES_SECONDS = 5.0


async def serve(config: CollectorConfig) -> None:
    """Run both receivers and the metrics endpoint until SIGINT or SIGTERM."""
    metrics = CollectorMetrics()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with AsyncExitStack() as stack:
        client = redis.Redis.from_url(config.redis_url)
        stack.push_async_callback(client.aclose)
        # Key and quota lookups only (single-row index reads, hence the short statement
        # timeout); the collector starts, and serves cached keys, with the database down.
        pool = await open_pool(
            config.database_url, config.db_pool_min_size, config.db_pool_max_size,
            statement_timeout_ms=2000, application_name="llmobs-collector",
        )  # fmt: skip
        stack.push_async_callback(pool.close)
        prices = PriceOverrideSource(pool, config.price_overrides_refresh_seconds)
        # A bad pipeline file exits before anything waits for the database.
        pipelines, pipeline_file, rebuild = load_pipeline(config, metrics, prices)
        # Best effort, and short: with the database still starting, calls are priced from the
        # list prices until the watch below reads the overrides (re-pricing can correct them).
        if await prices.refresh(connection_wait_seconds=_STARTUP_PRICES_SECONDS):
            pipelines = rebuild()
        exporter = StreamExporter(
            client, config.stream, config.max_stream_entries, metrics.handoff_entries
        )
        quota = build_quota(client, pool, config, metrics)
        # Log records pass through a pipeline of their own: the redact steps of the same config.
        usage_feed = build_usage_feed(client, pool, config, metrics)
        receiver = Receiver(pipelines.spans, exporter, metrics, pipelines.logs, quota, usage_feed)
        if pipeline_file is not None:
            watch = asyncio.create_task(pipeline_file.watch(receiver), name="pipeline-file")
            stack.push_async_callback(cancel_and_wait, watch)

        async def swap_pipelines() -> None:
            try:
                rebuilt = rebuild()
            except PipelineConfigError as exc:
                log.error("pipeline not rebuilt", extra={"problems": list(exc.problems)})
                return
            receiver.pipeline, receiver.log_pipeline = rebuilt.spans, rebuilt.logs
            log.info("pipeline rebuilt with new price overrides")

        price_watch = asyncio.create_task(prices.watch(swap_pipelines), name="price-overrides")
        stack.push_async_callback(cancel_and_wait, price_watch)
        projects = build_resolver(pool, config, metrics)
        inflight = InflightBytes(config.max_inflight_bytes, metrics.inflight_bytes)
        grpc_server, _ = build_server(
            receiver, projects, metrics, config.host, config.grpc_port, config.max_request_bytes,
            inflight, config.reuse_port,
        )  # fmt: skip
        await grpc_server.start()
        stack.push_async_callback(grpc_server.stop, _GRACE_SECONDS)
        http_app = build_app(
            receiver, projects, metrics, config.max_request_bytes, inflight, config.cors_origins,
            config.body_timeout_seconds,
        )  # fmt: skip
        RestIngest(
            receiver, projects, OpenSpans(client, config.rest_open_span_ttl_seconds), metrics,
            config.max_request_bytes, quota,
        ).add_routes(http_app)  # fmt: skip
        # The receiver decompresses itself, bounded by the request size limit (no gzip bombs).
        http_runner = await start_site(
            http_app, config.host, config.http_port, auto_decompress=False,
            reuse_port=config.reuse_port,
        )  # fmt: skip
        stack.push_async_callback(http_runner.cleanup)
        metrics_runner = await start_site(
            build_metrics_app(metrics.registry), config.host, config.metrics_port
        )
        stack.push_async_callback(metrics_runner.cleanup)
        log.info(
            "collector started",
            extra={"grpc_port": config.grpc_port, "http_port": config.http_port,
                   "metrics_port": config.metrics_port},
        )  # fmt: skip
        await stop.wait()
        log.info("collector stopping")


def load_pipeline(
    config: CollectorConfig, metrics: CollectorMetrics, prices: PriceOverrideSource
) -> tuple[Pipelines, PipelineFile | None, Callable[[], Pipelines]]:
    """The first pipelines (the file's, else DEFAULT_STEPS), the file to watch if any, and how
    to build them again (when stored prices change)."""
    llm_metrics = LLMMetrics(metrics.registry)
    context = ProcessorContext(
        redact_hash_secret=config.redact_hash_secret, price_overrides=lambda: prices.current
    )
    metrics.registry.register(RedactionCollector(context.redact_stats))
    registry = build_registry(context)

    def make_pipelines(steps: Sequence[Mapping[str, Any]]) -> Pipelines:
        stages = {LLM_METRICS_STEP: llm_metrics.build_step}
        spans = Pipeline(build_pipeline(steps, registry, stages), metrics)
        return Pipelines(spans, Pipeline(build_log_steps(steps, context), metrics))

    if not config.pipeline_file:
        return make_pipelines(DEFAULT_STEPS), None, lambda: make_pipelines(DEFAULT_STEPS)
    pipeline_file = PipelineFile(Path(config.pipeline_file), make_pipelines, metrics)
    try:
        return pipeline_file.load(), pipeline_file, pipeline_file.load
    except PipelineConfigError as exc:
        raise ConfigError(
            f"invalid COLLECTOR_PIPELINE_FILE {config.pipeline_file}: " + "; ".join(exc.problems)
        ) from exc


def main() -> int:
    """Load the config once, then serve; a config error exits with status 2."""
    try:
        config = load_config(os.environ)
        configure_logging("collector", config.log_level)
        if not config.key_pepper and not config.dev_mode:
            log.warning("LLMOBS_KEY_PEPPER is empty: API keys are hashed without a server secret")
        asyncio.run(serve(config))
    except ConfigError as exc:
        print(f"collector: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
