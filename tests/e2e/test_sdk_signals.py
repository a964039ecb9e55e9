"""The OpenTelemetry Python SDK's traces, metrics and logs, over gRPC and over HTTP/protobuf,
gzip-compressed, through the running stack: every item sent is stored exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetrics,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetrics,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id

from tests.e2e.services import Stack
from tests.e2e.stored import wait_for_rows

# No periodic export while the test runs: the one export happens at shutdown, so that each
# series is sent once (a cumulative counter exported twice would rightly be two points).
HOUR_MS = 3_600_000


@dataclass
class Exporters:
    """One exporter per signal, all over the same transport."""

    spans: SpanExporter
    metrics: MetricExporter
    logs: LogRecordExporter


def exporters(stack: Stack, transport: str) -> Exporters:
    if transport == "grpc":
        target, gzip = stack.grpc_endpoint, grpc.Compression.Gzip
        return Exporters(
            GrpcSpans(endpoint=target, insecure=True, compression=gzip),
            GrpcMetrics(endpoint=target, insecure=True, compression=gzip),
            GrpcLogs(endpoint=target, insecure=True, compression=gzip),
        )
    base = stack.http_endpoint
    return Exporters(
        HttpSpans(endpoint=f"{base}/v1/traces", compression=Compression.Gzip),
        HttpMetrics(endpoint=f"{base}/v1/metrics", compression=Compression.Gzip),
        HttpLogs(endpoint=f"{base}/v1/logs", compression=Compression.Gzip),
    )


def emit(exporters: Exporters, service: str) -> tuple[str, str]:
    """Send a two-span trace, two log records (one an event inside the LLM call's span) and six
    metric series; return the trace id and the LLM call's span id in hex."""
    resource = Resource.create({"service.name": service})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporters.spans))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(exporters.logs))
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=[PeriodicExportingMetricReader(exporters.metrics, HOUR_MS)],
        views=[View(instrument_name="duration.exp",
                    aggregation=ExponentialBucketHistogramAggregation())],
    )  # fmt: skip
    tracer = tracer_provider.get_tracer("tests.signals", "1.0")
    logger = logger_provider.get_logger("tests.signals", "1.0")
    meter = meter_provider.get_meter("tests.signals", "1.0")

    def observe(_: CallbackOptions) -> list[Observation]:
        return [Observation(7, {"cpu": "0"})]

    requests = meter.create_counter("requests", unit="{request}")
    in_flight = meter.create_up_down_counter("in_flight")
    tokens = meter.create_histogram("tokens", unit="{token}")
    duration = meter.create_histogram("duration.exp", unit="s")
    meter.create_observable_gauge("cpu.load", callbacks=[observe])
    with tracer.start_as_current_span("agent run", kind=SpanKind.SERVER) as root:
        with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as call:
            logger.emit(
                event_name="gen_ai.client.inference.operation.details",
                body={"role": "assistant", "parts": [{"type": "text", "content": "Hi!"}]},
                attributes={"gen_ai.operation.name": "chat"},
                severity_number=SeverityNumber.INFO,
            )
            requests.add(2, {"model": "a"})
            requests.add(4, {"model": "a"})
            requests.add(1, {"model": "b"})
            in_flight.add(-3)
            tokens.record(0.5)
            tokens.record(12)
            duration.record(1.5)
            duration.record(3.0)
        logger.emit(body="done", severity_number=SeverityNumber.WARN, severity_text="WARN")
    trace_id = format_trace_id(root.get_span_context().trace_id)
    call_id = format_span_id(call.get_span_context().span_id)
    for provider in (tracer_provider, logger_provider, meter_provider):
        provider.shutdown()
    return trace_id, call_id


POINTS = """
SELECT metric_name, metric_type, attributes, value, aggregation_temporality, is_monotonic,
       count, sum, scale IS NOT NULL, scope_name
FROM metric_points WHERE service_name = %s ORDER BY metric_name, attributes::text
"""
LOGS = """
SELECT l.event_name, l.body, l.severity_number, l.severity_text, l.trace_id, l.span_id, s.name
FROM log_records l LEFT JOIN spans s USING (project_id, trace_id, span_id)
WHERE l.service_name = %s ORDER BY l.severity_number
"""


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_sdk_traces_metrics_and_logs_are_stored_once(
    stack: Stack, database_url: str, transport: str
) -> None:
    service = f"signals-{transport}"
    trace_id, call_id = emit(exporters(stack, transport), service)
    spans = wait_for_rows(
        database_url, "SELECT name FROM spans WHERE trace_id = %s ORDER BY name", (trace_id,), 2
    )
    assert spans == [("agent run",), ("chat gpt-4o-mini",)]
    scope = "tests.signals"
    points: list[tuple[Any, ...]] = wait_for_rows(database_url, POINTS, (service,), 6)
    assert points == [
        ("cpu.load", "gauge", {"cpu": "0"}, 7.0, None, None, None, None, False, scope),
        ("duration.exp", "exponential_histogram", {}, None, 2, None, 2, 4.5, True, scope),
        ("in_flight", "sum", {}, -3.0, 2, False, None, None, False, scope),
        ("requests", "sum", {"model": "a"}, 6.0, 2, True, None, None, False, scope),
        ("requests", "sum", {"model": "b"}, 1.0, 2, True, None, None, False, scope),
        ("tokens", "histogram", {}, None, 2, None, 2, 12.5, False, scope),
    ]  # fmt: skip
    logs = wait_for_rows(database_url, LOGS, (service,), 2)
    assert logs == [
        ("gen_ai.client.inference.operation.details",
         {"role": "assistant", "parts": [{"type": "text", "content": "Hi!"}]}, 9, "",
         trace_id, call_id, "chat gpt-4o-mini"),
        ("", "done", 13, "WARN", trace_id, logs[1][5], "agent run"),
    ]  # fmt: skip
