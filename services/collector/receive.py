"""The receive core both transports share: decode, process, hand off, report partial success."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from services.collector.export import StreamExporter
from services.collector.metrics import CollectorMetrics
from services.collector.pipeline import Pipeline
from services.collector.quota import IngestQuota
from shared.otlp.traces import decode_export_request
from shared.span import Span

SIGNAL_TRACES = "traces"


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """What the transport reports back: rejected records and why (OTLP partial success)."""

    accepted: int
    rejected: int
    message: str


class Receiver:
    """Turns decoded export requests into queued batches; transports only translate."""

    def __init__(
        self,
        pipeline: Pipeline,
        exporter: StreamExporter,
        metrics: CollectorMetrics,
        quota: IngestQuota | None = None,
    ) -> None:
        self.pipeline = pipeline
        self._exporter = exporter
        self._metrics = metrics
        self._quota = quota

    async def export_traces(
        self, request: ExportTraceServiceRequest, project_id: str, transport: str
    ) -> ExportOutcome:
        """Accept the valid spans of a request; raise a retryable error if none could be queued."""
        received_ns = time.time_ns()
        decoded = decode_export_request(request, project_id, received_ns)
        total = len(decoded.spans) + decoded.rejected
        self._metrics.spans_received.labels(SIGNAL_TRACES, transport).inc(total)
        for reason, count in decoded.reasons.items():
            self._metrics.spans_dropped.labels(SIGNAL_TRACES, transport, _reason_label(reason)).inc(
                count
            )
        accepted = await self._accept(decoded.spans, project_id, transport)
        return ExportOutcome(accepted, decoded.rejected, decoded.message())

    async def export_spans(self, spans: Sequence[Span], project_id: str, transport: str) -> int:
        """Accept spans built by a non-OTLP transport (REST); return how many were queued."""
        self._metrics.spans_received.labels(SIGNAL_TRACES, transport).inc(len(spans))
        return await self._accept(spans, project_id, transport)

    async def _accept(self, spans: Sequence[Span], project_id: str, transport: str) -> int:
        """Admit under the project's quota, process, hand off; the processed count."""
        if self._quota is not None:
            await self._quota.admit(project_id, len(spans), SIGNAL_TRACES, transport)
        processed = self.pipeline.run(spans)
        if processed:
            await self._exporter.hand_off(project_id, processed)
        self._metrics.spans_processed.labels(SIGNAL_TRACES, transport).inc(len(processed))
        return len(processed)


def _reason_label(reason: str) -> str:
    """A bounded metric label for a rejection reason: its first word (the field at fault)."""
    return reason.split(" ", 1)[0]
