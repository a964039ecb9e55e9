"""Decoding ExportLogsServiceRequest: every field, bodies of each kind, optional ids, rejections;
real GenAI events sent as logs point at spans of the same export."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from shared.log_record import LogRecord
from shared.otlp.logs import decode_logs_request
from shared.otlp.traces import decode_export_request
from tests.shared.otlp_samples import T0, logs_request

CORPUS = Path(__file__).resolve().parents[2] / "test-data" / "llm-corpus"
SCOPE = {
    "project_id": "proj", "resource_attributes": {"service.name": "logs-app"},
    "resource_schema_url": "https://opentelemetry.io/schemas/1.26.0",
    "scope_name": "tests.logs", "scope_version": "1.0", "received_unix_nano": 42,
}  # fmt: skip


def test_every_field_is_decoded() -> None:
    decoded = decode_logs_request(logs_request(), "proj", 42)
    assert decoded.rejected == 0
    event, line, untimed = decoded.records
    assert event == LogRecord(
        **SCOPE, time_unix_nano=T0, observed_time_unix_nano=T0 + 7, severity_number=9,
        severity_text="INFO", body={"role": "user", "parts": ["Hello?"]},
        attributes={"gen_ai.operation.name": "chat"}, dropped_attributes_count=2, flags=1,
        trace_id="0af7651916cd43dd8448eb211c80319c", span_id="b7ad6b7169203331",
        event_name="gen_ai.client.inference.operation.details",
    )  # fmt: skip
    assert (line.body, line.severity_number, line.severity_text) == (
        "provider returned 429", 17, "ERROR",
    )  # fmt: skip
    assert (line.trace_id, line.span_id, line.attributes) == ("", "", {"http.status_code": 429})
    assert (untimed.time_unix_nano, untimed.observed_time_unix_nano) == (0, T0 + 3_000)
    assert untimed.body == b"\x00\x01"


def test_absent_body_is_none_and_all_zero_ids_are_absent() -> None:
    request = logs_request()
    record = request.resource_logs[0].scope_logs[0].log_records[0]
    record.ClearField("body")
    record.trace_id = bytes(16)
    record.span_id = bytes(8)
    first = decode_logs_request(request, "p", 0).records[0]
    assert (first.body, first.trace_id, first.span_id) == (None, "", "")


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("trace_id", b"\x01" * 8, "trace_id must be empty or 16 bytes"),
        ("span_id", b"\x01" * 16, "span_id must be empty or 8 bytes"),
        ("time_unix_nano", 2**64 - 1, "time_unix_nano or observed_time_unix_nano is out of range"),
        ("severity_number", 25, "severity_number must be between 0 and 24"),
    ],
)
def test_malformed_records_are_rejected_alone(field: str, value: object, reason: str) -> None:
    request = logs_request()
    setattr(request.resource_logs[0].scope_logs[0].log_records[1], field, value)
    decoded = decode_logs_request(request, "p", 0)
    assert (decoded.rejected, len(decoded.records)) == (1, 2)
    assert decoded.message() == f"1 log record(s): {reason}"


def test_genai_events_sent_as_logs_name_spans_of_their_trace() -> None:
    files = sorted(CORPUS.glob("*/*.logs.otlp.pb"))
    assert len(files) >= 4, "the corpus is part of the repository"
    for path in files:
        request = ExportLogsServiceRequest.FromString(path.read_bytes())
        decoded = decode_logs_request(request, "p", 0)
        assert decoded.rejected == 0 and decoded.records, path
        traces = path.with_name(path.name.replace(".logs.otlp.pb", ".otlp.pb"))
        spans = decode_export_request(
            ExportTraceServiceRequest.FromString(traces.read_bytes()), "p", 0
        ).spans
        span_ids = {(span.trace_id, span.span_id) for span in spans}
        for record in decoded.records:
            assert record.event_name == "gen_ai.client.inference.operation.details"
            assert (record.trace_id, record.span_id) in span_ids, path
            assert record.attributes["gen_ai.operation.name"] == "chat"
