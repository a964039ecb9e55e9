"""Decoding ExportTraceServiceRequest: every AnyValue type, ids, times, events, links, rejects."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from shared.otlp.traces import decode_export_request

CORPUS = Path(__file__).resolve().parents[2] / "test-data" / "llm-corpus"


def kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


def one_span_request() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.schema_url = "https://opentelemetry.io/schemas/1.26.0"
    resource_spans.resource.attributes.append(kv("service.name", AnyValue(string_value="svc")))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "lib"
    scope_spans.scope.version = "0.1"
    scope_spans.scope.attributes.append(kv("scope.attr", AnyValue(bool_value=True)))
    span = scope_spans.spans.add()
    span.trace_id = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
    span.span_id = bytes.fromhex("b7ad6b7169203331")
    span.parent_span_id = bytes.fromhex("00f067aa0ba902b7")
    span.name = "chat"
    span.kind = 3
    span.start_time_unix_nano = 1_700_000_000_123_456_789
    span.end_time_unix_nano = 1_700_000_001_000_000_001
    span.status.code = 2
    span.status.message = "boom"
    span.trace_state = "vendor=1"
    span.flags = 0x301
    span.dropped_attributes_count = 3
    span.dropped_events_count = 4
    span.dropped_links_count = 5
    nested = AnyValue(
        kvlist_value=KeyValueList(
            values=[
                kv("inner", AnyValue(array_value=ArrayValue(values=[AnyValue(int_value=1)]))),
                kv("empty", AnyValue()),
            ]
        )
    )
    span.attributes.extend(
        [
            kv("s", AnyValue(string_value="text")),
            kv("b", AnyValue(bool_value=False)),
            kv("i", AnyValue(int_value=-(2**63))),
            kv("d", AnyValue(double_value=1.5)),
            kv("bytes", AnyValue(bytes_value=b"\x00\xff")),
            kv("arr", AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="x"),
                                                              AnyValue(int_value=2)]))),
            kv("map", nested),
        ]
    )  # fmt: skip
    event = span.events.add()
    event.time_unix_nano = 1_700_000_000_500_000_000
    event.name = "gen_ai.choice"
    event.attributes.append(kv("index", AnyValue(int_value=0)))
    event.dropped_attributes_count = 1
    link = span.links.add()
    link.trace_id = bytes.fromhex("11111111111111111111111111111111")
    link.span_id = bytes.fromhex("2222222222222222")
    link.trace_state = "a=b"
    link.flags = 1
    link.attributes.append(kv("why", AnyValue(string_value="retry")))
    return request


def test_every_field_and_value_type_is_decoded() -> None:
    decoded = decode_export_request(one_span_request(), "proj", 42)
    assert decoded.rejected == 0
    (span,) = decoded.spans
    assert span.project_id == "proj"
    assert span.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert span.span_id == "b7ad6b7169203331"
    assert span.parent_span_id == "00f067aa0ba902b7"
    assert (span.name, span.kind, span.status_code, span.status_message) == ("chat", 3, 2, "boom")
    assert span.start_time_unix_nano == 1_700_000_000_123_456_789
    assert span.end_time_unix_nano == 1_700_000_001_000_000_001
    assert (span.trace_state, span.flags) == ("vendor=1", 0x301)
    assert span.attributes == {
        "s": "text", "b": False, "i": -(2**63), "d": 1.5, "bytes": b"\x00\xff",
        "arr": ["x", 2], "map": {"inner": [1], "empty": None},
    }  # fmt: skip
    assert (span.dropped_attributes_count, span.dropped_events_count) == (3, 4)
    assert span.dropped_links_count == 5
    assert span.resource_attributes == {"service.name": "svc"}
    assert span.service_name == "svc"
    assert span.resource_schema_url == "https://opentelemetry.io/schemas/1.26.0"
    assert (span.scope_name, span.scope_version, span.scope_attributes) == (
        "lib", "0.1", {"scope.attr": True},
    )  # fmt: skip
    (event,) = span.events
    assert (event.name, event.time_unix_nano, event.attributes) == (
        "gen_ai.choice", 1_700_000_000_500_000_000, {"index": 0},
    )  # fmt: skip
    assert event.dropped_attributes_count == 1
    (link,) = span.links
    assert (link.trace_id, link.span_id, link.trace_state, link.flags) == (
        "11111111111111111111111111111111", "2222222222222222", "a=b", 1,
    )  # fmt: skip
    assert link.attributes == {"why": "retry"}
    assert span.received_unix_nano == 42


def test_root_span_has_no_parent() -> None:
    request = one_span_request()
    request.resource_spans[0].scope_spans[0].spans[0].parent_span_id = b""
    assert decode_export_request(request, "p", 0).spans[0].parent_span_id is None


def test_values_the_database_cannot_hold_are_rejected() -> None:
    request = one_span_request()
    spans = request.resource_spans[0].scope_spans[0].spans
    for field, value in (("end_time_unix_nano", 2**64 - 1), ("dropped_links_count", 2**32 - 1)):
        bad = spans.add()
        bad.CopyFrom(spans[0])
        setattr(bad, field, value)
    decoded = decode_export_request(request, "p", 0)
    assert len(decoded.spans) == 1
    assert decoded.reasons == {
        "start_time_unix_nano or end_time_unix_nano is out of range": 1,
        "dropped_attributes_count, dropped_events_count or dropped_links_count is too large": 1,
    }


def test_malformed_spans_are_rejected_one_by_one_with_reasons() -> None:
    request = one_span_request()
    spans = request.resource_spans[0].scope_spans[0].spans
    for mutate in (
        lambda s: setattr(s, "trace_id", b""),
        lambda s: setattr(s, "trace_id", bytes(16)),
        lambda s: setattr(s, "span_id", b"\x01" * 7),
        lambda s: setattr(s, "parent_span_id", b"\x01" * 3),
        lambda s: setattr(s, "start_time_unix_nano", 0),
        lambda s: setattr(s, "end_time_unix_nano", 1),
    ):
        bad = spans.add()
        bad.CopyFrom(spans[0])
        mutate(bad)
    decoded = decode_export_request(request, "p", 0)
    assert len(decoded.spans) == 1
    assert decoded.rejected == 6
    assert decoded.reasons == {
        "trace_id must be 16 non-zero bytes": 2,
        "span_id must be 8 non-zero bytes": 1,
        "parent_span_id must be empty or 8 bytes": 1,
        "start_time_unix_nano is missing": 1,
        "end_time_unix_nano is before start_time_unix_nano": 1,
    }
    assert "2 span(s): trace_id must be 16 non-zero bytes" in decoded.message()


def test_deep_nesting_is_cut_not_crashing() -> None:
    value = AnyValue(string_value="leaf")
    for _ in range(45):  # protobuf itself refuses ~50+ levels (a DecodeError, hence a 400)
        value = AnyValue(array_value=ArrayValue(values=[value]))
    request = one_span_request()
    request.resource_spans[0].scope_spans[0].spans[0].attributes.append(kv("deep", value))
    span = decode_export_request(request, "p", 0).spans[0]
    depth, node = 0, span.attributes["deep"]
    while isinstance(node, list):
        depth, node = depth + 1, node[0]
    assert depth <= 32 and node is None


def test_real_instrumentation_exports_decode() -> None:
    files = sorted(CORPUS.glob("*/*.otlp.pb"))
    files = [path for path in files if ".metrics." not in path.name and ".logs." not in path.name]
    assert files, "the corpus is part of the repository"
    for path in files:
        request = ExportTraceServiceRequest.FromString(path.read_bytes())
        decoded = decode_export_request(request, "p", 0)
        expected = sum(
            len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans
        )
        assert decoded.rejected == 0, path
        assert len(decoded.spans) == expected > 0, path
