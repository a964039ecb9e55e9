"""OTLP metrics and logs requests with one of everything, for decoder, transport, storage tests."""

from __future__ import annotations

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

T0 = 1_790_000_000_000_000_000
TRACE_ID = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
SPAN_ID = bytes.fromhex("b7ad6b7169203331")


def kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


def text(value: str) -> AnyValue:
    return AnyValue(string_value=value)


def metrics_request(offset_ns: int = 0) -> ExportMetricsServiceRequest:
    """Seven points: int gauge, double gauge, monotonic delta sum, histogram (with an exemplar),
    exponential histogram, summary, and a sum point without a recorded value."""
    request = ExportMetricsServiceRequest()
    resource_metrics = request.resource_metrics.add()
    resource_metrics.schema_url = "https://opentelemetry.io/schemas/1.26.0"
    resource_metrics.resource.attributes.append(kv("service.name", text("metrics-app")))
    scope_metrics = resource_metrics.scope_metrics.add()
    scope_metrics.scope.name = "tests.metrics"
    scope_metrics.scope.version = "2.0"
    scope_metrics.scope.attributes.append(kv("scope.attr", AnyValue(bool_value=True)))
    now = T0 + offset_ns

    gauge = scope_metrics.metrics.add(name="queue.depth", description="Items queued", unit="{item}")
    gauge.metadata.append(kv("origin", text("test")))
    point = gauge.gauge.data_points.add(time_unix_nano=now, as_int=-(2**62))
    point.attributes.append(kv("queue", text("a")))
    gauge.gauge.data_points.add(time_unix_nano=now, as_double=0.25).attributes.append(
        kv("queue", text("b"))
    )

    total = scope_metrics.metrics.add(name="gen_ai.requests", unit="{request}")
    total.sum.aggregation_temporality = 1
    total.sum.is_monotonic = True
    total.sum.data_points.add(start_time_unix_nano=now - 10**9, time_unix_nano=now, as_int=3)
    total.sum.data_points.add(start_time_unix_nano=now - 10**9, time_unix_nano=now + 1, flags=1)

    histogram = scope_metrics.metrics.add(name="gen_ai.client.token.usage", unit="{token}")
    histogram.histogram.aggregation_temporality = 2
    point = histogram.histogram.data_points.add(
        start_time_unix_nano=now - 10**9, time_unix_nano=now, count=3, sum=431.5,
        min=1.5, max=400.0, bucket_counts=[1, 0, 2], explicit_bounds=[10.0, 100.0],
    )  # fmt: skip
    point.attributes.append(kv("gen_ai.token.type", text("input")))
    exemplar = point.exemplars.add(time_unix_nano=now - 5, as_double=400.0)
    exemplar.trace_id = TRACE_ID
    exemplar.span_id = SPAN_ID
    exemplar.filtered_attributes.append(kv("user", text("u1")))

    exponential = scope_metrics.metrics.add(name="gen_ai.client.operation.duration", unit="s")
    exponential.exponential_histogram.aggregation_temporality = 1
    point = exponential.exponential_histogram.data_points.add(
        start_time_unix_nano=now - 10**9, time_unix_nano=now, count=6, sum=2.5, scale=3,
        zero_count=1, zero_threshold=1e-9, min=0.0, max=1.25,
    )  # fmt: skip
    point.positive.offset = -2
    point.positive.bucket_counts.extend([1, 2, 1])
    point.negative.offset = 4
    point.negative.bucket_counts.extend([1])

    summary = scope_metrics.metrics.add(name="latency.summary", unit="ms")
    point = summary.summary.data_points.add(
        start_time_unix_nano=now - 10**9, time_unix_nano=now, count=10, sum=55.5
    )
    point.quantile_values.add(quantile=0.5, value=4.0)
    point.quantile_values.add(quantile=0.99, value=12.5)
    return request


def logs_request(offset_ns: int = 0) -> ExportLogsServiceRequest:
    """Three records: a GenAI content event inside a span (kvlist body), a plain log line with a
    string body and no span, and one without a time (only the observed time)."""
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.schema_url = "https://opentelemetry.io/schemas/1.26.0"
    resource_logs.resource.attributes.append(kv("service.name", text("logs-app")))
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = "tests.logs"
    scope_logs.scope.version = "1.0"
    now = T0 + offset_ns

    event = scope_logs.log_records.add(
        time_unix_nano=now, observed_time_unix_nano=now + 7, severity_number=9,
        severity_text="INFO", event_name="gen_ai.client.inference.operation.details",
        trace_id=TRACE_ID, span_id=SPAN_ID, flags=1, dropped_attributes_count=2,
    )  # fmt: skip
    message = KeyValueList(
        values=[
            kv("role", text("user")),
            kv("parts", AnyValue(array_value=ArrayValue(values=[text("Hello?")]))),
        ]
    )
    event.body.kvlist_value.CopyFrom(message)
    event.attributes.append(kv("gen_ai.operation.name", text("chat")))

    line = scope_logs.log_records.add(
        time_unix_nano=now + 1, observed_time_unix_nano=now + 2, severity_number=17,
        severity_text="ERROR",
    )  # fmt: skip
    line.body.string_value = "provider returned 429"
    line.attributes.append(kv("http.status_code", AnyValue(int_value=429)))

    untimed = scope_logs.log_records.add(observed_time_unix_nano=now + 3_000)
    untimed.body.bytes_value = b"\x00\x01"
    return request
