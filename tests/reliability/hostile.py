"""The hostile input corpus: malformed, oversized and adversarial bodies for the collector's
transports, each tagged with the input class the docs table counts it under."""

from __future__ import annotations

import gzip
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import zstandard
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tests.e2e.otlp_load import build_request

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1
# What the test stacks accept (COLLECTOR_MAX_REQUEST_BYTES): the production default.
MAX_REQUEST_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Hostile:
    """One hostile request body: its class, a name, the signal path, and how it is encoded."""

    input_class: str
    name: str
    body: bytes
    path: str = "/v1/traces"
    content_type: str = PROTOBUF
    encoding: str = "identity"
    # For accepted requests: whether the partial success must report rejected records.
    is_rejected: bool | None = None

    @property
    def is_grpc_able(self) -> bool:
        """Whether the body can also go over gRPC (uncompressed binary protobuf)."""
        return self.content_type == PROTOBUF and self.encoding == "identity"


def one_span_request(**span_fields: object) -> ExportTraceServiceRequest:
    """A request of one valid span, with `span_fields` set over the defaults."""
    request = ExportTraceServiceRequest.FromString(build_request(0, 1))
    span = request.resource_spans[0].scope_spans[0].spans[0]
    for name, value in span_fields.items():
        setattr(span, name, value)
    return request


def otlp_corpus(seed: int = 1) -> Iterator[Hostile]:
    """Every hostile OTLP body, deterministic for a seed."""
    rng = random.Random(seed)
    valid = build_request(0, 20)
    for cut in (1, 7, len(valid) // 3, len(valid) // 2, len(valid) - 1):
        yield Hostile("truncated protobuf", f"cut at byte {cut}", valid[:cut])
    for path in ("/v1/metrics", "/v1/logs"):
        yield Hostile("truncated protobuf", f"{path} cut", valid[: len(valid) // 2], path)
    for number in range(12):
        size = rng.choice((1, 16, 512, 65536))
        yield Hostile(
            "random protobuf",
            f"{size} random bytes #{number}",
            rng.randbytes(size),
            rng.choice(("/v1/traces", "/v1/metrics", "/v1/logs")),
        )
    for depth in (10, 25, 33, 200, 2000):
        yield Hostile("deeply nested AnyValue", f"depth {depth}", nested_request(depth))
    many = one_span_request()
    attributes = many.resource_spans[0].scope_spans[0].spans[0].attributes
    attributes.extend(KeyValue(key=f"k{n}", value=AnyValue(int_value=n)) for n in range(100_000))
    yield Hostile("100k attributes", "100,000 attributes on one span", many.SerializeToString())
    for size_mib in (1, 15):
        huge = one_span_request(name="x" * (size_mib << 20))
        yield Hostile("huge strings", f"{size_mib} MiB span name", huge.SerializeToString())
    over = one_span_request(name="x" * (MAX_REQUEST_BYTES + 10))
    yield Hostile("huge strings", "span name over the request limit", over.SerializeToString())
    utf8 = one_span_request(name="NAME").SerializeToString().replace(b"NAME", b"N\xff\xfeE")
    yield Hostile("invalid UTF-8", "span name with 0xff 0xfe", utf8)
    for label, fields in (
        ("trace_id of 15 bytes", {"trace_id": b"\x01" * 15}),
        ("trace_id of 17 bytes", {"trace_id": b"\x01" * 17}),
        ("span_id of 7 bytes", {"span_id": b"\x01" * 7}),
        ("zero trace_id", {"trace_id": bytes(16)}),
        ("parent_span_id of 9 bytes", {"parent_span_id": b"\x01" * 9}),
    ):
        yield Hostile(
            "ids of wrong length",
            label,
            one_span_request(**fields).SerializeToString(),
            is_rejected=True,
        )
    for label, start, end, is_rejected in (
        ("start at int64 max", INT64_MAX, INT64_MAX, False),
        ("end at uint64 max", 1, UINT64_MAX, True),
        ("start at uint64 max", UINT64_MAX, UINT64_MAX, True),
        ("start 1 ns after epoch", 1, 2, False),
        ("end before start", 10**18, 1, True),
    ):
        request = one_span_request(start_time_unix_nano=start, end_time_unix_nano=end)
        yield Hostile(
            "timestamps at the int64 limits",
            label,
            request.SerializeToString(),
            is_rejected=is_rejected,
        )
    yield from _json_corpus()
    yield from _bombs()


def nested_request(depth: int) -> bytes:
    """A one-span request whose attribute `deep` is kvlists `depth` deep, written on the wire
    by hand (the protobuf runtime refuses to build messages nested past its own limit)."""
    value = AnyValue(string_value="bottom").SerializeToString()
    for _ in range(depth):
        key_value = _field(1, b"k") + _field(2, value)  # KeyValue{key, value}
        value = _field(6, _field(1, key_value))  # AnyValue{kvlist_value{values}}
    span = one_span_request().resource_spans[0].scope_spans[0].spans[0].SerializeToString()
    span += _field(9, _field(1, b"deep") + _field(2, value))  # Span.attributes
    return _field(1, _field(2, _field(2, span)))  # resource_spans / scope_spans / spans


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _json_corpus() -> Iterator[Hostile]:
    span = {
        "traceId": "01" * 16,
        "spanId": "01" * 8,
        "name": "s",
        "startTimeUnixNano": "1",
        "endTimeUnixNano": "2",
    }

    def wrap(value: object) -> bytes:
        return orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [value]}]}]})

    cases: list[tuple[str, bytes]] = [
        ("resourceSpans is a string", b'{"resourceSpans": "x"}'),
        ("document is an array", b"[1, 2, 3]"),
        ("document is null", b"null"),
        ("traceId is a number", wrap({**span, "traceId": 5})),
        ("startTimeUnixNano is text", wrap({**span, "startTimeUnixNano": "soon"})),
        ("startTimeUnixNano past uint64", wrap({**span, "startTimeUnixNano": str(2**70)})),
        ("kind is an object", wrap({**span, "kind": {"a": 1}})),
        ("attributes is a string", wrap({**span, "attributes": "k=v"})),
        (
            "attribute value of wrong type",
            wrap({**span, "attributes": [{"key": "k", "value": {"intValue": "many"}}]}),
        ),
        ("span is a number", wrap(7)),
        ("nested arrays 5000 deep", b"[" * 5000 + b"]" * 5000),
        ("invalid UTF-8 in a string", wrap({**span, "name": "NAME"}).replace(b"NAME", b"\xff")),
        ("not JSON at all", b"{'single': 'quotes'}"),
    ]
    for name, body in cases:
        yield Hostile("JSON with wrong types", name, body, content_type=JSON)


def _bombs() -> Iterator[Hostile]:
    zeros = bytes(200 * 1024 * 1024)  # 200 MiB of zeros: far past the 16 MiB limit
    yield Hostile(
        "compression bombs", "gzip 200 MiB of zeros", gzip.compress(zeros, 9), encoding="gzip"
    )
    yield Hostile(
        "compression bombs", "deflate 200 MiB of zeros", zlib.compress(zeros, 9), encoding="deflate"
    )
    yield Hostile(
        "compression bombs",
        "zstd 200 MiB of zeros",
        zstandard.ZstdCompressor(level=19).compress(zeros),
        encoding="zstd",
    )
    yield Hostile(
        "compression bombs", "gzip truncated", gzip.compress(zeros[:4096])[:20], encoding="gzip"
    )
    yield Hostile("compression bombs", "unknown encoding", b"x", encoding="br")
