"""Large values are compressed as STORAGE_TOAST_COMPRESSION says, from the SDK to the row."""

from __future__ import annotations

import json
import random
from pathlib import Path

import psycopg
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from deploy.devutils.workload import text_of
from tests.e2e.services import build_stack
from tests.e2e.test_sdk_roundtrip import wait_for_trace


def _send_long_chat(endpoint: str) -> str:
    """One chat call whose prompt is ~40 KB of text; its trace id."""
    provider = TracerProvider(resource=Resource.create({"service.name": "long-prompts"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    tracer = provider.get_tracer("tests.compression")
    prompt = text_of(random.Random(1), 40_000)
    messages = [{"role": "user", "parts": [{"type": "text", "content": prompt}]}]
    with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.provider.name", "openai")
        span.set_attribute("gen_ai.request.model", "gpt-4o")
        span.set_attribute("gen_ai.input.messages", json.dumps(messages))
        trace_id = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()
    return trace_id


@pytest.mark.parametrize("method", ["lz4", "pglz"])
def test_messages_are_stored_compressed_with_the_configured_method(
    database_url: str, redis_url: str, tmp_path: Path, method: str
) -> None:
    stack = build_stack(database_url, redis_url, tmp_path, STORAGE_TOAST_COMPRESSION=method)
    stack.start()
    try:
        trace_id = _send_long_chat(f"{stack.http_endpoint}/v1/traces")
        wait_for_trace(stack.api_url, trace_id, 1)
    finally:
        stack.stop()
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT pg_column_compression(attributes), pg_column_compression(input_messages),"
            " octet_length(input_messages::text), pg_column_size(input_messages)"
            " FROM spans WHERE trace_id = %s",
            (trace_id,),
        ).fetchone()
    assert row is not None
    attributes, messages, text_bytes, stored_bytes = row
    assert (attributes, messages) == (method, method)
    assert stored_bytes < text_bytes / 2
