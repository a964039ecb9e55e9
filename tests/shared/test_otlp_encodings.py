"""Parsing request bodies: OTLP/JSON (hex ids, int64 as string or number, unknown fields) gives
what the protobuf gives; refusals name the field; invalid UTF-8 in protobuf names the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from shared.errors import BadInputError
from shared.otlp.json_encoding import parse_json
from shared.otlp.logs import decode_logs_request
from shared.otlp.metrics import decode_metrics_request
from shared.otlp.protobuf import parse_protobuf
from shared.otlp.traces import decode_export_request
from tests.e2e.otlp_load import build_request

CORPUS = Path(__file__).resolve().parents[2] / "test-data" / "llm-corpus"
TRACE_HEX = "0AF7651916CD43DD8448EB211C80319C"
SPAN_HEX = "B7AD6B7169203331"


def request_type(path: Path) -> type[Message]:
    if ".metrics." in path.name:
        return ExportMetricsServiceRequest
    if ".logs." in path.name:
        return ExportLogsServiceRequest
    return ExportTraceServiceRequest


def decoded_records(request: Message) -> list[Any]:
    if isinstance(request, ExportMetricsServiceRequest):
        return list(decode_metrics_request(request, "p", 0).points)
    if isinstance(request, ExportLogsServiceRequest):
        return list(decode_logs_request(request, "p", 0).records)
    assert isinstance(request, ExportTraceServiceRequest)
    return list(decode_export_request(request, "p", 0).spans)


def test_corpus_json_exports_decode_to_the_same_records_as_protobuf() -> None:
    files = sorted(CORPUS.glob("*/*.otlp.json"))
    kinds = {request_type(path) for path in files}
    assert len(files) >= 48 and len(kinds) == 3, "the corpus is part of the repository"
    for path in files:
        kind = request_type(path)
        from_json = parse_json(path.read_bytes(), kind)
        binary = path.with_name(path.name.replace(".otlp.json", ".otlp.pb")).read_bytes()
        from_protobuf = parse_protobuf(binary, kind)
        assert from_json == from_protobuf, path
        assert decoded_records(from_json) == decoded_records(from_protobuf) != [], path


def span_document(**span: Any) -> dict[str, Any]:
    base = {
        "traceId": TRACE_HEX,
        "spanId": SPAN_HEX,
        "name": "s",
        "kind": 3,
        "startTimeUnixNano": "1790000000000000000",
        "endTimeUnixNano": 1790000000000000001,
    }
    return {"resourceSpans": [{"scopeSpans": [{"spans": [{**base, **span}]}]}]}  # fmt: skip


def parse_spans(document: dict[str, Any]) -> ExportTraceServiceRequest:
    return parse_json(orjson.dumps(document), ExportTraceServiceRequest)


def test_hex_ids_any_case_int64_as_string_or_number_and_unknown_fields() -> None:
    document = span_document(
        parentSpanId="", unknownField={"x": 1},
        links=[{"traceId": TRACE_HEX.lower(), "spanId": SPAN_HEX.lower(), "futureField": 1}],
        attributes=[{"key": "n", "value": {"intValue": "-9223372036854775808"}}],
    )  # fmt: skip
    span = parse_spans(document).resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id.hex() == TRACE_HEX.lower()
    assert span.span_id.hex() == SPAN_HEX.lower()
    assert (span.links[0].trace_id, span.links[0].span_id) == (span.trace_id, span.span_id)
    assert (span.kind, span.start_time_unix_nano, span.end_time_unix_nano) == (
        3, 1790000000000000000, 1790000000000000001,
    )  # fmt: skip
    assert span.attributes[0].value.int_value == -(2**63)
    assert span.parent_span_id == b""


def test_original_field_names_carry_hex_ids_too() -> None:
    document = {"resource_spans": [{"scope_spans": [{"spans": [
        {"trace_id": TRACE_HEX, "span_id": SPAN_HEX, "start_time_unix_nano": 5}]}]}]}  # fmt: skip
    span = parse_spans(document).resource_spans[0].scope_spans[0].spans[0]
    assert (span.trace_id.hex(), span.span_id.hex()) == (TRACE_HEX.lower(), SPAN_HEX.lower())


@pytest.mark.parametrize(
    ("document", "request_kind", "words"),
    [
        (span_document(traceId="CvdlGRbNQ92ESOshHIAxnA=="), ExportTraceServiceRequest,
         "resourceSpans[0].scopeSpans[0].spans[0].traceId: 'CvdlGRbNQ92ESOshHIAxnA==' is base64"),
        (span_document(spanId="t61rcWkgMzE"), ExportTraceServiceRequest,
         "spans[0].spanId: 't61rcWkgMzE' is base64; OTLP/JSON trace and span ids must be hex"),
        (span_document(links=[{"traceId": TRACE_HEX, "spanId": "xyz"}]),
         ExportTraceServiceRequest, "spans[0].links[0].spanId: 'xyz' is not an even-length hex"),
        (span_document(parentSpanId=12), ExportTraceServiceRequest,
         "spans[0].parentSpanId: must be a hex string"),
        ({"resourceLogs": [{"scopeLogs": [{"logRecords": [
            {"traceId": "AAECAwQFBgcICQoLDA0ODw=="}]}]}]},
         ExportLogsServiceRequest, "resourceLogs[0].scopeLogs[0].logRecords[0].traceId: "),
        ({"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "m", "gauge": {
            "dataPoints": [{"asInt": "1", "exemplars": [{"spanId": "zz"}]}]}}]}]}]},
         ExportMetricsServiceRequest,
         "metrics[0].gauge.dataPoints[0].exemplars[0].spanId: 'zz' is not an even-length hex"),
        (span_document(startTimeUnixNano="soon"), ExportTraceServiceRequest,
         "not a valid OTLP/JSON ExportTraceServiceRequest: Failed to parse resourceSpans field"),
        ({"resourceSpans": {}}, ExportTraceServiceRequest, "repeated field resourceSpans must be"),
        ([], ExportTraceServiceRequest, "body must be a JSON object"),
    ],
)  # fmt: skip
def test_refusals_name_the_field(document: Any, request_kind: type[Message], words: str) -> None:
    with pytest.raises(BadInputError) as caught:
        parse_json(orjson.dumps(document), request_kind)
    assert words in str(caught.value)


def test_invalid_json_is_refused() -> None:
    for body in (b"{", b'{"resourceSpans": [}', b'{"a": "\xff"}'):
        with pytest.raises(BadInputError, match="body is not valid JSON"):
            parse_json(body, ExportTraceServiceRequest)


def test_wrong_length_hex_ids_reach_the_decoder_which_rejects_the_record_alone() -> None:
    document = span_document()
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans.append({**spans[0], "traceId": TRACE_HEX[:-2]})
    decoded = decode_export_request(parse_spans(document), "p", 0)
    assert (len(decoded.spans), decoded.rejected) == (1, 1)
    assert "trace_id must be 16 non-zero bytes" in decoded.message()


def test_invalid_utf8_in_a_protobuf_string_names_the_field() -> None:
    body = build_request(0, 3).replace(b"span 1", b"span \xff")
    with pytest.raises(BadInputError) as caught:
        parse_protobuf(body, ExportTraceServiceRequest)
    assert str(caught.value) == (
        "body is not a valid ExportTraceServiceRequest protobuf: string field"
        " resource_spans[0].scope_spans[0].spans[1].name is not valid UTF-8"
    )


def test_truncated_protobuf_is_refused_with_the_parser_message() -> None:
    with pytest.raises(BadInputError, match="not a valid ExportTraceServiceRequest protobuf"):
        parse_protobuf(build_request(0, 3)[:-5], ExportTraceServiceRequest)
