"""The three OTLP signals as both transports see them: messages, gRPC service, HTTP path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from services.collector.receive import ExportOutcome, Receiver
from shared.handoff import SIGNAL_LOGS, SIGNAL_METRICS, SIGNAL_TRACES

RequestT = TypeVar("RequestT", bound=Message)


@dataclass(frozen=True, slots=True)
class OtlpSignal(Generic[RequestT]):
    """One signal's Export call: what is parsed, which receiver method runs, what is answered."""

    name: str
    request_type: type[RequestT]
    response_type: type[Message]
    grpc_service: str
    http_path: str
    # The Export*PartialSuccess field that counts rejected records.
    rejected_field: str
    export: Callable[[Receiver, RequestT, str, str], Awaitable[ExportOutcome]]

    def response(self, outcome: ExportOutcome) -> Message:
        """The Export*ServiceResponse; partial_success is set only when records were rejected
        (OTLP: it must stay unset on full success)."""
        response = self.response_type()
        if outcome.rejected:
            partial = response.partial_success
            setattr(partial, self.rejected_field, outcome.rejected)
            partial.error_message = outcome.message
        return response


TRACES = OtlpSignal(
    SIGNAL_TRACES,
    trace_service_pb2.ExportTraceServiceRequest,
    trace_service_pb2.ExportTraceServiceResponse,
    "opentelemetry.proto.collector.trace.v1.TraceService",
    "/v1/traces",
    "rejected_spans",
    Receiver.export_traces,
)
METRICS = OtlpSignal(
    SIGNAL_METRICS,
    metrics_service_pb2.ExportMetricsServiceRequest,
    metrics_service_pb2.ExportMetricsServiceResponse,
    "opentelemetry.proto.collector.metrics.v1.MetricsService",
    "/v1/metrics",
    "rejected_data_points",
    Receiver.export_metrics,
)
LOGS = OtlpSignal(
    SIGNAL_LOGS,
    logs_service_pb2.ExportLogsServiceRequest,
    logs_service_pb2.ExportLogsServiceResponse,
    "opentelemetry.proto.collector.logs.v1.LogsService",
    "/v1/logs",
    "rejected_log_records",
    Receiver.export_logs,
)
SIGNALS: tuple[OtlpSignal[Any], ...] = (TRACES, METRICS, LOGS)
