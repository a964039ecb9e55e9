"""Spans sent by the official OpenTelemetry SDK over gRPC and HTTP come back intact via the API."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from tests.e2e.services import Stack


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def wait_for_trace(
    api_url: str, trace_id: str, span_count: int, timeout: float = 15,
    headers: dict[str, str] | None = None,
) -> Any:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = get_json(f"{api_url}/v1/traces/{trace_id}", headers)
            if body["span_count"] == span_count:
                return body
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
        time.sleep(0.1)
    raise AssertionError(f"trace {trace_id} did not reach {span_count} spans in {timeout}s")


def emit_trace(exporter: SpanExporter) -> list[ReadableSpan]:
    """Emit a three-span trace through `exporter`; return what the SDK recorded."""
    recorded = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": "roundtrip-app", "deployment.environment": "test"}
        )
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.add_span_processor(SimpleSpanProcessor(recorded))
    tracer = provider.get_tracer("tests.roundtrip", "1.2.3")
    with tracer.start_as_current_span("agent run", kind=SpanKind.SERVER) as root:
        root.set_attribute("app.flag", True)
        root.set_attribute("app.count", 42)
        root.set_attribute("app.ratio", 0.25)
        root.set_attribute("app.tags", ["a", "b"])
        root.set_attribute("app.scores", [1, 2, 3])
        with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as call:
            call.set_attribute("gen_ai.operation.name", "chat")
            call.set_attribute("gen_ai.request.model", "gpt-4o-mini")
            call.add_event("gen_ai.content.prompt", {"gen_ai.prompt": "Hello?"})
        link = Link(root.get_span_context(), {"link.kind": "follows"})
        with tracer.start_as_current_span("tool lookup", links=[link]) as tool:
            tool.set_status(Status(StatusCode.ERROR, "lookup failed"))
    provider.shutdown()
    return list(recorded.get_finished_spans())


def assert_roundtrip(api_url: str, sent: list[ReadableSpan]) -> None:
    trace_id = format(sent[0].context.trace_id, "032x")
    body = wait_for_trace(api_url, trace_id, len(sent))
    flat: dict[str, dict[str, Any]] = {}
    pending = list(body["spans"])
    while pending:
        node = pending.pop()
        flat[node["span_id"]] = node
        pending.extend(node["children"])
    assert len(body["spans"]) == 1, "one root"
    for span in sent:
        span_id = format(span.context.span_id, "016x")
        got = flat[span_id]
        assert got["trace_id"] == trace_id
        assert got["name"] == span.name
        parent = format(span.parent.span_id, "016x") if span.parent else None
        assert got["parent_span_id"] == parent
        assert int(got["start_time_unix_nano"]) == span.start_time
        assert int(got["end_time_unix_nano"]) == span.end_time
        assert got["attributes"] == {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in (span.attributes or {}).items()
        }
        assert got["resource"]["attributes"]["service.name"] == "roundtrip-app"
        assert got["scope"] == {"name": "tests.roundtrip", "version": "1.2.3", "attributes": {}}
        assert got["kind"] == span.kind.name
        assert [e["name"] for e in got["events"]] == [e.name for e in span.events]
    root = body["spans"][0]
    assert {child["name"] for child in root["children"]} == {"chat gpt-4o-mini", "tool lookup"}
    tool = next(child for child in root["children"] if child["name"] == "tool lookup")
    assert tool["status"] == {"code": "ERROR", "message": "lookup failed"}
    assert tool["links"][0]["span_id"] == root["span_id"]
    assert tool["links"][0]["attributes"] == {"link.kind": "follows"}
    listed = get_json(f"{api_url}/v1/traces?limit=10")["data"]
    summary = next(item for item in listed if item["trace_id"] == trace_id)
    assert summary["span_count"] == 3
    assert summary["name"] == "agent run"
    assert summary["service_name"] == "roundtrip-app"
    assert summary["error_count"] == 1


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_sdk_spans_round_trip(stack: Stack, transport: str) -> None:
    if transport == "grpc":
        exporter: SpanExporter = GrpcSpanExporter(endpoint=stack.grpc_endpoint, insecure=True)
    else:
        exporter = HttpSpanExporter(endpoint=f"{stack.http_endpoint}/v1/traces")
    sent = emit_trace(exporter)
    assert len(sent) == 3
    assert_roundtrip(stack.api_url, sent)
