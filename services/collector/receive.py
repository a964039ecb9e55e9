"""The receive core both transports share: decode, process, hand off, report partial success."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from services.collector.export import StreamExporter
from services.collector.metrics import CollectorMetrics
from services.collector.pipeline import Pipeline
from services.collector.processors.truncate import count_truncated
from services.collector.quota import IngestQuota
from services.collector.usage_feed import UsageFeed
from shared.handoff import SIGNAL_LOGS, SIGNAL_METRICS, SIGNAL_TRACES, Record
from shared.log_record import LogRecord
from shared.otlp.logs import decode_logs_request
from shared.otlp.metrics import decode_metrics_request
from shared.otlp.rejections import Rejections
from shared.otlp.traces import decode_export_request
from shared.span import Span

RecordT = TypeVar("RecordT", bound=Record)


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """What the transport reports back: rejected records and why (OTLP partial success)."""

    accepted: int
    rejected: int
    message: str


class Receiver:
    """Turns decoded export requests into queued batches; transports only translate.

    Spans go through `pipeline` and log records through `log_pipeline` (no steps yet: the place
    for processors such as the redaction of GenAI content events sent as logs). Metric points
    carry no content and are handed off as decoded.
    """

    def __init__(
        self,
        pipeline: Pipeline[Span],
        exporter: StreamExporter,
        metrics: CollectorMetrics,
        log_pipeline: Pipeline[LogRecord] | None = None,
        quota: IngestQuota | None = None,
        usage_feed: UsageFeed | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.log_pipeline = (
            Pipeline[LogRecord]([], metrics) if log_pipeline is None else log_pipeline
        )
        self._exporter = exporter
        self._metrics = metrics
        self._quota = quota
        self._usage_feed = usage_feed

    async def export_traces(
        self, request: ExportTraceServiceRequest, project_id: str, transport: str
    ) -> ExportOutcome:
        """Accept the valid spans of a request; raise a retryable error if none could be queued."""
        decoded = decode_export_request(request, project_id, time.time_ns())
        return await self._accept(
            SIGNAL_TRACES, decoded, decoded.spans, self.pipeline.run, project_id, transport
        )

    async def export_spans(self, spans: Sequence[Span], project_id: str, transport: str) -> int:
        """Accept spans built by a non-OTLP transport (REST); return how many were queued."""
        outcome = await self._accept(
            SIGNAL_TRACES, Rejections(), spans, self.pipeline.run, project_id, transport
        )
        return outcome.accepted

    async def export_metrics(
        self, request: ExportMetricsServiceRequest, project_id: str, transport: str
    ) -> ExportOutcome:
        """Accept the valid data points of a request, as `export_traces` does spans."""
        decoded = decode_metrics_request(request, project_id, time.time_ns())
        return await self._accept(
            SIGNAL_METRICS, decoded, decoded.points, list, project_id, transport
        )

    async def export_logs(
        self, request: ExportLogsServiceRequest, project_id: str, transport: str
    ) -> ExportOutcome:
        """Accept the valid log records of a request, through the log pipeline."""
        decoded = decode_logs_request(request, project_id, time.time_ns())
        return await self._accept(
            SIGNAL_LOGS, decoded, decoded.records, self.log_pipeline.run, project_id, transport
        )

    async def _accept(
        self,
        signal: str,
        rejections: Rejections,
        records: Sequence[RecordT],
        process: Callable[[Sequence[RecordT]], Sequence[RecordT]],
        project_id: str,
        transport: str,
    ) -> ExportOutcome:
        metrics = self._metrics
        metrics.spans_received.labels(signal, transport).inc(len(records) + rejections.rejected)
        for reason, count in rejections.reasons.items():
            metrics.spans_dropped.labels(signal, transport, _reason_label(reason)).inc(count)
        if self._quota is not None:
            await self._quota.admit(project_id, len(records), signal, transport)
        processed = process(records)
        if processed:
            await self._exporter.hand_off(signal, project_id, processed)
            if self._usage_feed is not None and signal == SIGNAL_TRACES:
                await self._usage_feed.record(project_id, processed)  # type: ignore[arg-type]
        metrics.spans_processed.labels(signal, transport).inc(len(processed))
        if signal == SIGNAL_TRACES:
            metrics.truncated_values.inc(count_truncated(processed))  # type: ignore[arg-type]
        return ExportOutcome(len(processed), rejections.rejected, rejections.message())


def _reason_label(reason: str) -> str:
    """A bounded metric label for a rejection reason: its first word (the field at fault)."""
    return reason.split(" ", 1)[0]
