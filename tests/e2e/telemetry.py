"""A little of every kind of telemetry, sent to a running collector over OTLP/HTTP, so that every
metric series the dashboards and alerts use exists afterwards."""

from __future__ import annotations

import time
import urllib.request

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from deploy.devutils.workload import SEED_SHAPE, TraceFactory
from tests.e2e.services import ROOT, Stack

SAMPLE = ROOT / "test-data" / "sample-trace.json"


def post(url: str, body: bytes, content_type: str) -> None:
    """POST and require a 200."""
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def send_varied_telemetry(stack: Stack, traces: int = 60) -> None:
    """The sample trace (JSON), seeded agent runs over the last hour (errors, streaming, unpriced
    calls, embeddings, tools; protobuf), one span the collector rejects, and API reads."""
    url = f"{stack.http_endpoint}/v1/traces"
    post(url, SAMPLE.read_bytes(), "application/json")
    now = time.time_ns()
    factory = TraceFactory(11, SEED_SHAPE)
    for request in factory.spread_requests(traces, now - 3600 * 10**9, now - 10**9):
        post(url, request.SerializeToString(), "application/x-protobuf")
    invalid = ExportTraceServiceRequest()
    span = invalid.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = b"\x01" * 15, b"\x02" * 8, "malformed"
    post(url, invalid.SerializeToString(), "application/x-protobuf")
    for path in ("/v1/traces", "/health", "/health/detailed"):
        with urllib.request.urlopen(f"{stack.api_url}{path}", timeout=10) as response:
            assert response.status == 200


def scrape(target: str) -> str:
    """The Prometheus text exposition of `host:port`/metrics."""
    with urllib.request.urlopen(f"http://{target}/metrics", timeout=10) as response:
        text: str = response.read().decode()
    return text
