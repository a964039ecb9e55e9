"""Load sent by the official OpenTelemetry SDK exporter (OTLP/HTTP), with its own retries;
what it reports as exported successfully is what the collector acknowledged."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

EXPORTER_LOGGER = "opentelemetry.exporter.otlp.proto.http.trace_exporter"


class _RetryCounter(logging.Handler):
    """Counts the exporter's "retrying" warnings (one per retried attempt)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "retrying" in record.getMessage():
            self.retries += 1


def make_traces(traces: int, spans_per_trace: int) -> list[list[ReadableSpan]]:
    """Finished SDK spans, grouped by trace (a root and its children)."""
    recorder = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(recorder))
    tracer = provider.get_tracer("tests.reliability")
    for number in range(traces):
        with tracer.start_as_current_span(f"request {number}"):
            for child in range(spans_per_trace - 1):
                with tracer.start_as_current_span(f"step {child}") as span:
                    span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
    grouped: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in recorder.get_finished_spans():
        assert span.context is not None
        grouped[span.context.trace_id].append(span)
    provider.shutdown()
    return list(grouped.values())


@dataclass
class SdkLoad:
    """`batches` traces of `spans_per_batch` spans, one export call each, from a thread."""

    endpoint: str
    batches: int
    spans_per_batch: int
    timeout_seconds: float = 30.0
    # Keyed as tests.reliability.load.stored_spans keys traces: the trace id minus one.
    acknowledged: set[int] = field(default_factory=set)
    retries: int = 0
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def description(self) -> str:
        """The load as the docs table shows it."""
        return (
            f"{self.batches} exports x {self.spans_per_batch} spans, OpenTelemetry SDK "
            "OTLPSpanExporter (HTTP), back to back, its default retry policy"
        )

    def start(self) -> SdkLoad:
        """Build the spans, then export them from a background thread."""
        traces = make_traces(self.batches, self.spans_per_batch)
        self._thread = threading.Thread(target=self._run, args=(traces,), daemon=True)
        self._thread.start()
        return self

    def join(self) -> None:
        """Wait for the last export (each bounded by the exporter's timeout)."""
        assert self._thread is not None
        self._thread.join(self.batches * self.timeout_seconds)
        assert not self._thread.is_alive()

    def _run(self, traces: Sequence[Sequence[ReadableSpan]]) -> None:
        counter = _RetryCounter()
        logger = logging.getLogger(EXPORTER_LOGGER)
        logger.addHandler(counter)
        exporter = OTLPSpanExporter(
            endpoint=f"{self.endpoint}/v1/traces", timeout=self.timeout_seconds
        )
        try:
            for spans in traces:
                if exporter.export(spans) == SpanExportResult.SUCCESS:
                    context = spans[0].context
                    assert context is not None
                    self.acknowledged.add(context.trace_id - 1)
        finally:
            exporter.shutdown()
            logger.removeHandler(counter)
            self.retries = counter.retries
