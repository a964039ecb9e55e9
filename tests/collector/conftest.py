"""A collector wired in-process to a real Redis: HTTP via aiohttp's test server, gRPC on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient, TestServer

from services.collector.export import StreamExporter
from services.collector.metrics import CollectorMetrics
from services.collector.otlp_grpc import build_server
from services.collector.otlp_http import build_app
from services.collector.pipeline import Pipeline
from services.collector.projects import ProjectResolver
from services.collector.receive import Receiver

STREAM = "test:spans"


@dataclass
class CollectorUnderTest:
    """Handles on a running in-process collector."""

    http: TestClient
    grpc_target: str
    redis: redis.Redis
    metrics: CollectorMetrics


async def start_collector(
    redis_url: str, max_stream_entries: int = 1000, max_request_bytes: int = 1 << 20
) -> tuple[CollectorUnderTest, grpc.aio.Server]:
    client = redis.Redis.from_url(redis_url)
    metrics = CollectorMetrics()
    receiver = Receiver(
        Pipeline([], metrics), StreamExporter(client, STREAM, max_stream_entries), metrics
    )
    projects = ProjectResolver("default")
    app = build_app(receiver, projects, metrics, max_request_bytes)
    server = TestServer(app)
    await server.start_server(auto_decompress=False)  # as __main__ runs it
    http = TestClient(server)
    await http.start_server()
    grpc_server, port = build_server(receiver, projects, metrics, "127.0.0.1", 0, max_request_bytes)
    await grpc_server.start()
    return CollectorUnderTest(http, f"127.0.0.1:{port}", client, metrics), grpc_server


@pytest.fixture
async def collector(redis_url: str) -> AsyncIterator[CollectorUnderTest]:
    running, server = await start_collector(redis_url)
    yield running
    await server.stop(None)
    await running.http.close()
    await running.redis.aclose()
