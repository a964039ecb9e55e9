"""Throughput of OTLP/JSON request parsing against binary protobuf, on real GenAI spans:
`PYTHONPATH=. python bench/bench_otlp_json.py` from the repository root."""

from __future__ import annotations

import argparse
import base64
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from shared.otlp.json_encoding import parse_json
from shared.otlp.protobuf import parse_protobuf
from shared.otlp.traces import decode_export_request

CORPUS = Path(__file__).resolve().parents[1] / "test-data" / "llm-corpus"


def build_request(spans_per_request: int) -> ExportTraceServiceRequest:
    """One request of `spans_per_request` spans copied from the corpus's trace exports (content
    attributes included), each with ids of its own."""
    templates = []
    for path in sorted(CORPUS.glob("*/*.otlp.pb")):
        if ".metrics." in path.name or ".logs." in path.name:
            continue
        request = ExportTraceServiceRequest.FromString(path.read_bytes())
        templates.extend(
            s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans
        )
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    for index in range(spans_per_request):
        span = scope_spans.spans.add()
        span.CopyFrom(templates[index % len(templates)])
        span.trace_id = (index // 8 + 1).to_bytes(16, "big")
        span.span_id = (index + 1).to_bytes(8, "big")
    return request


def rate(work: Callable[[], object], spans: int, seconds: float = 2.0) -> float:
    """Spans per second of `work` (which handles `spans` spans), repeated for about `seconds`."""
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        work()
        done += spans
    return done / (time.perf_counter() - started)


def main() -> None:
    """Print spans/s for each way in, and where JSON's time goes."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=512, help="spans per request")
    args = parser.parse_args()
    request = build_request(args.spans)
    binary = request.SerializeToString()
    document = json_format.MessageToDict(request)
    for span in document["resourceSpans"][0]["scopeSpans"][0]["spans"]:  # OTLP/JSON: hex ids
        for key in ("traceId", "spanId", "parentSpanId"):
            if key in span:
                span[key] = base64.b64decode(span[key]).hex()
    body = orjson.dumps(document)
    assert parse_json(body, ExportTraceServiceRequest) == request
    n = args.spans
    print(f"{n} spans per request; protobuf {len(binary):,} bytes, JSON {len(body):,} bytes")

    results = {
        "protobuf parse": rate(lambda: parse_protobuf(binary, ExportTraceServiceRequest), n),
        "JSON parse (orjson + hex ids + ParseDict)": rate(
            lambda: parse_json(body, ExportTraceServiceRequest), n
        ),
        "  of which orjson.loads": rate(lambda: orjson.loads(body), n),
        "protobuf parse + decode to spans": rate(
            lambda: decode_export_request(
                parse_protobuf(binary, ExportTraceServiceRequest), "p", 0
            ),
            n,
        ),
        "JSON parse + decode to spans": rate(
            lambda: decode_export_request(parse_json(body, ExportTraceServiceRequest), "p", 0), n
        ),
    }
    for name, spans_per_second in results.items():
        print(f"{name:45s} {spans_per_second:>12,.0f} spans/s")


if __name__ == "__main__":
    main()
