"""A collector wired in-process to a real Redis and PostgreSQL: HTTP via aiohttp's test server,
gRPC on port 0, wired from a CollectorConfig as __main__ wires it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import psycopg
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient, TestServer
from psycopg_pool import AsyncConnectionPool

from services.collector.admission import InflightBytes
from services.collector.config import CollectorConfig
from services.collector.export import StreamExporter
from services.collector.llm_metrics import STEP_TYPE as LLM_METRICS_STEP
from services.collector.llm_metrics import LLMMetrics
from services.collector.metrics import CollectorMetrics
from services.collector.open_spans import OpenSpans
from services.collector.otlp_grpc import build_server
from services.collector.otlp_http import build_app
from services.collector.pipeline import Pipeline, build_pipeline
from services.collector.processors.registry import REGISTRY
from services.collector.projects import build_resolver
from services.collector.quota import build_quota
from services.collector.receive import Receiver
from services.collector.rest_ingest import RestIngest
from services.collector.usage_feed import build_usage_feed
from shared.apikeys import generate_key, generate_langfuse_pair
from shared.db import open_pool
from shared.handoff import Batch, decode_entry
from shared.keystore import create_key

STREAM = "test:spans"


@dataclass
class CollectorUnderTest:
    """Handles on a running in-process collector."""

    http: TestClient
    grpc_target: str
    redis: redis.Redis
    metrics: CollectorMetrics
    pool: AsyncConnectionPool[Any]
    grpc_server: grpc.aio.Server
    inflight: InflightBytes

    async def stop(self) -> None:
        """Stop the servers and close the clients, in reverse order of starting."""
        await self.grpc_server.stop(None)
        await self.http.close()
        await self.pool.close()
        await self.redis.aclose()


async def start_collector(
    redis_url: str,
    database_url: str,
    steps: Sequence[Mapping[str, Any]] = (),
    **settings: Any,
) -> CollectorUnderTest:
    """A collector in dev mode unless `settings` say otherwise; `steps` is its pipeline."""
    config = CollectorConfig(
        **{"redis_url": redis_url, "database_url": database_url, "dev_mode": True,
           "stream": STREAM, "max_stream_entries": 1000, "max_request_bytes": 1 << 20,
           **settings},
    )  # fmt: skip
    metrics = CollectorMetrics()
    # Built first: a bad step list fails before any connection is opened.
    stages = {LLM_METRICS_STEP: LLMMetrics(metrics.registry).build_step}
    pipeline = Pipeline(build_pipeline(steps, REGISTRY, stages), metrics)
    client = redis.Redis.from_url(config.redis_url)
    pool = await open_pool(config.database_url, 1, 2, application_name="test-collector")
    quota = build_quota(client, pool, config, metrics)
    receiver = Receiver(
        pipeline,
        StreamExporter(client, config.stream, config.max_stream_entries, metrics.handoff_entries),
        metrics,
        quota=quota,
        usage_feed=build_usage_feed(client, pool, config, metrics),
    )
    projects = build_resolver(pool, config, metrics)
    inflight = InflightBytes(config.max_inflight_bytes, metrics.inflight_bytes)
    app = build_app(
        receiver, projects, metrics, config.max_request_bytes, inflight, config.cors_origins
    )
    RestIngest(
        receiver, projects, OpenSpans(client, config.rest_open_span_ttl_seconds), metrics,
        config.max_request_bytes, quota,
    ).add_routes(app)  # fmt: skip
    server = TestServer(app)
    await server.start_server(auto_decompress=False)  # as __main__ runs it
    http = TestClient(server)
    await http.start_server()
    grpc_server, port = build_server(
        receiver, projects, metrics, "127.0.0.1", 0, config.max_request_bytes, inflight
    )
    await grpc_server.start()
    return CollectorUnderTest(
        http, f"127.0.0.1:{port}", client, metrics, pool, grpc_server, inflight
    )


@pytest.fixture
async def collector(redis_url: str, database_url: str) -> AsyncIterator[CollectorUnderTest]:
    running = await start_collector(redis_url, database_url)
    yield running
    await running.stop()


@dataclass(frozen=True)
class IssuedKey:
    """A key created for a test: its id and the secret a client sends."""

    key_id: str
    secret: str
    display_id: str


async def add_key(
    database_url: str,
    project_id: str,
    scopes: tuple[str, ...] = ("ingest",),
    is_langfuse: bool = False,
    pepper: str = "",
) -> IssuedKey:
    """Create the project if needed and a key for it, as `keys create` does."""
    new_key = generate_langfuse_pair() if is_langfuse else generate_key()
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO projects (project_id, name) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (project_id, project_id),
        )
        key_id = await create_key(conn, new_key, project_id, "test", scopes, pepper)
    return IssuedKey(key_id, new_key.secret, new_key.display_id)


async def stream_batches(collector: CollectorUnderTest) -> list[Batch]:
    """Every batch in the hand-off stream, oldest first."""
    return [decode_entry(fields) for _, fields in await collector.redis.xrange(STREAM)]
