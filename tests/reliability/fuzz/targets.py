"""Fuzz targets: the OTLP decoders (binary protobuf and JSON, every signal) and the normaliser,
each followed by the hand-off encoding the collector applies to what it accepts.

A target returns quietly for input the decoders refuse with BadInputError (a clear 400); any
other exception, a crash or a hang is a finding.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from services.collector.processors import normalize
from shared.errors import BadInputError
from shared.handoff import Record, decode_entry, encode_batch
from shared.otlp.json_encoding import parse_json
from shared.otlp.logs import decode_logs_request
from shared.otlp.metrics import decode_metrics_request
from shared.otlp.protobuf import parse_protobuf
from shared.otlp.traces import decode_export_request

Decoder = Callable[[Any, str, int], Sequence[Record]]
# The first input byte picks the signal: (request type, decoder to records, hand-off signal).
SIGNALS: tuple[tuple[type[Message], Decoder, str], ...] = (
    (ExportTraceServiceRequest, lambda r, p, t: decode_export_request(r, p, t).spans, "traces"),
    (ExportMetricsServiceRequest, lambda r, p, t: decode_metrics_request(r, p, t).points,
     "metrics"),
    (ExportLogsServiceRequest, lambda r, p, t: decode_logs_request(r, p, t).records, "logs"),
)  # fmt: skip
_NORMALIZE = normalize.build(normalize.NormalizeConfig())


def _hand_off(signal: str, records: Sequence[Record]) -> None:
    """What the collector does with accepted records: encode them for the stream (and what
    storage does next: decode the entry)."""
    if records:
        decoded = decode_entry(encode_batch(signal, "fuzz", records))
        assert len(decoded.records) == len(records)


def otlp_protobuf(data: bytes) -> None:
    """Binary protobuf of the signal chosen by the first byte, decoded to records."""
    if not data:
        return
    request_type, decode, signal = SIGNALS[data[0] % len(SIGNALS)]
    try:
        request = parse_protobuf(data[1:], request_type)
    except BadInputError:
        return
    _hand_off(signal, decode(request, "fuzz", time.time_ns()))


def otlp_json(data: bytes) -> None:
    """OTLP/JSON of the signal chosen by the first byte, decoded to records."""
    if not data:
        return
    request_type, decode, signal = SIGNALS[data[0] % len(SIGNALS)]
    try:
        request = parse_json(data[1:], request_type)
    except BadInputError:
        return
    _hand_off(signal, decode(request, "fuzz", time.time_ns()))


def normalizer(data: bytes) -> None:
    """Trace requests (seeded with the real LLM corpus) decoded, then normalised."""
    try:
        request = parse_protobuf(data, ExportTraceServiceRequest)
    except BadInputError:
        return
    spans = decode_export_request(request, "fuzz", time.time_ns()).spans
    normalized = _NORMALIZE(spans)
    assert len(normalized) == len(spans)
    _hand_off("traces", normalized)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "otlp_protobuf": otlp_protobuf,
    "otlp_json": otlp_json,
    "normalizer": normalizer,
}
