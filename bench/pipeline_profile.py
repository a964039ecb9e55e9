"""Where the collector's time goes per span: parse, decode, each default step, hand-off encoding.

PYTHONPATH=. .venv/bin/python -m bench.pipeline_profile --traces 3000
PYTHONPATH=. .venv/bin/python -m bench.pipeline_profile --traces 2000 --cprofile normalize
(the second: the step's Python calls by cProfile, a count that does not depend on machine load)
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from deploy.devutils.workload import TraceFactory
from services.collector.metrics import CollectorMetrics
from services.collector.pipeline import build_pipeline
from services.collector.processors.registry import DEFAULT_STEPS, REGISTRY
from shared.handoff import encode_spans
from shared.otlp.traces import decode_export_request


def main() -> None:
    """Run the default processors over generated traffic; print microseconds per span."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--traces", type=int, default=3000)
    parser.add_argument("--cprofile", metavar="STEP", help="profile one processor step instead")
    args = parser.parse_args()
    bodies = [
        r.SerializeToString() for r in TraceFactory(3).requests(args.traces, time.time_ns(), 10**6)
    ]
    steps = build_pipeline([s for s in DEFAULT_STEPS if s["type"] in REGISTRY], REGISTRY)
    CollectorMetrics()
    if args.cprofile:
        profile_step(bodies, steps, args.cprofile)
        return
    spans_total = 0
    seconds: dict[str, float] = {}

    def add(name: str, started: float) -> None:
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started

    for body in bodies:
        started = time.perf_counter()
        request = ExportTraceServiceRequest.FromString(body)
        add("parse", started)
        started = time.perf_counter()
        spans = decode_export_request(request, "default", 1).spans
        add("decode", started)
        spans_total += len(spans)
        for step in steps:
            started = time.perf_counter()
            spans = step.processor(spans)
            add(step.name, started)
        started = time.perf_counter()
        encode_spans("default", spans)
        add("encode", started)
    total = sum(seconds.values())
    print(f"{spans_total} spans, {spans_total / total:,.0f} spans/s on one core")
    for name, value in seconds.items():
        print(f"  {name:16s} {value * 1e6 / spans_total:8.1f} us/span")


def profile_step(bodies: list[bytes], steps: list[Any], name: str) -> None:
    """cProfile of the step `name` alone over the decoded bodies (earlier steps run unprofiled)."""
    profiler = cProfile.Profile()
    for body in bodies:
        request = ExportTraceServiceRequest.FromString(body)
        spans = decode_export_request(request, "default", 1).spans
        for step in steps:
            if step.name == name:
                profiler.enable()
                spans = step.processor(spans)
                profiler.disable()
                break
            spans = step.processor(spans)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
