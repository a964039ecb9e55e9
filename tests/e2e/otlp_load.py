"""Synthetic OTLP export requests with known ids, for counting what arrives."""

from __future__ import annotations

import urllib.request

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

BASE_TIME_NS = 1_790_000_000_000_000_000


def build_request(
    batch: int, spans_per_batch: int, service: str = "load", *,
    base_time_ns: int = BASE_TIME_NS, batch_interval_ns: int = 1_000_000_000,
    llm_calls: bool = False,
) -> bytes:  # fmt: skip
    """A request of `spans_per_batch` spans, one trace per batch, ids derived from numbers.

    With `llm_calls`, every span but the root is an OTel GenAI chat call with token usage and a
    duration spread over three orders of magnitude.
    """
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(
        KeyValue(key="service.name", value=AnyValue(string_value=service))
    )
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "tests.load"
    trace_id = (batch + 1).to_bytes(16, "big")
    for index in range(spans_per_batch):
        span = scope_spans.spans.add()
        span.trace_id = trace_id
        span.span_id = (index + 1).to_bytes(8, "big")
        if index:
            span.parent_span_id = (1).to_bytes(8, "big")
        span.name = f"span {index}"
        span.kind = 3
        span.start_time_unix_nano = base_time_ns + batch * batch_interval_ns + index
        span.end_time_unix_nano = span.start_time_unix_nano + 5_000_000
        span.attributes.append(KeyValue(key="batch", value=AnyValue(int_value=batch)))
        if llm_calls and index:
            number = batch * spans_per_batch + index
            span.end_time_unix_nano = (
                span.start_time_unix_nano + (number * 7919 % 30_000 + 1) * 10**5
            )
            for key, value in (
                ("gen_ai.operation.name", "chat"), ("gen_ai.provider.name", "openai"),
                ("gen_ai.request.model", ("gpt-4o-mini", "gpt-4o")[number % 2]),
            ):  # fmt: skip
                span.attributes.append(KeyValue(key=key, value=AnyValue(string_value=value)))
            for key, count in (("gen_ai.usage.input_tokens", 100 + number % 900),
                               ("gen_ai.usage.output_tokens", 1 + number % 97)):  # fmt: skip
                span.attributes.append(KeyValue(key=key, value=AnyValue(int_value=count)))
    return request.SerializeToString()


def post(url: str, body: bytes, content_type: str = "application/x-protobuf",
         headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:  # fmt: skip
    """POST and return (status, body, headers), also for error statuses."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)
