"""`make seed`: realistic LLM traces over the past days, sent through the collector as OTLP/HTTP.

Every span goes the way an application's would (decode, normalise, redact, price, metrics,
hand-off, storage), so the dashboards, the API and the rollups see what production would.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from deploy.devutils.workload import SEED_SHAPE, TraceFactory

DEFAULT_ENDPOINT = "http://127.0.0.1:4318"
# Retryable answers (the hand-off is full, or Redis is away): wait as told and send again.
RETRYABLE_STATUSES = {429, 502, 503, 504}
MAX_ATTEMPTS = 10
END_MARGIN_SECONDS = 60  # the newest trace starts a minute ago, so it has ended by now
NS = 10**9


class SeedError(RuntimeError):
    """The collector refused the seed's data; the message says what it answered."""


@dataclass(frozen=True, slots=True)
class SeedOptions:
    """What to send and where."""

    endpoint: str = DEFAULT_ENDPOINT
    days: float = 7.0
    traces: int = 2000
    seed: int = 7
    api_key: str = ""
    max_spans: int = 512


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What the collector took."""

    requests: int
    spans: int
    rejected_spans: int
    seconds: float


def parse_options(argv: Sequence[str] | None = None) -> SeedOptions:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m deploy.devutils.seed", description=__doc__)
    parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help="collector OTLP/HTTP URL")
    parser.add_argument("--days", type=float, default=7.0, help="spread traces over N days")
    parser.add_argument("--traces", type=int, default=2000, help="number of agent runs")
    parser.add_argument("--seed", type=int, default=7, help="random seed: same seed, same data")
    parser.add_argument("--api-key", default="", help="sent as Authorization: Bearer <key>")
    args = parser.parse_args(argv)
    if args.days <= 0 or args.traces <= 0:
        parser.error("--days and --traces must be positive")
    return SeedOptions(args.endpoint.rstrip("/"), args.days, args.traces, args.seed, args.api_key)


def seed(options: SeedOptions, now_ns: int | None = None) -> SeedReport:
    """Generate the traces and POST them to the collector; raise SeedError on a refusal."""
    started = time.monotonic()
    end_ns = (now_ns or time.time_ns()) - END_MARGIN_SECONDS * NS
    start_ns = end_ns - int(options.days * 86400 * NS)
    factory = TraceFactory(options.seed, SEED_SHAPE)
    requests = spans = rejected = 0
    for request in factory.spread_requests(options.traces, start_ns, end_ns, options.max_spans):
        rejected += send(options, request)
        requests += 1
        spans += sum(len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans)
    return SeedReport(requests, spans, rejected, time.monotonic() - started)


def send(options: SeedOptions, request: ExportTraceServiceRequest) -> int:
    """POST one export request, retrying refusals the collector marks retryable; return the
    number of spans it rejected (OTLP partial success)."""
    headers = {"Content-Type": "application/x-protobuf"}
    if options.api_key:
        headers["Authorization"] = f"Bearer {options.api_key}"
    body = request.SerializeToString()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        http_request = urllib.request.Request(
            f"{options.endpoint}/v1/traces", data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(http_request, timeout=30) as response:
                answer = ExportTraceServiceResponse.FromString(response.read())
                return int(answer.partial_success.rejected_spans)
        except urllib.error.HTTPError as error:
            if error.code not in RETRYABLE_STATUSES or attempt == MAX_ATTEMPTS:
                detail = error.read()[:500].decode(errors="replace")
                raise SeedError(f"the collector answered {error.code}: {detail}") from error
            time.sleep(_retry_after_seconds(error.headers.get("Retry-After"), attempt))
        except urllib.error.URLError as error:
            raise SeedError(f"cannot reach the collector at {options.endpoint}: {error}") from error
    raise AssertionError("unreachable")


def _retry_after_seconds(value: str | None, attempt: int) -> float:
    try:
        return min(float(value or ""), 30.0)
    except ValueError:
        return min(0.5 * 2.0**attempt, 30.0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the seeder; print what was sent; exit 1 with the reason when refused."""
    options = parse_options(argv)
    print(f"Sending {options.traces} traces over {options.days:g} days to {options.endpoint}")
    try:
        report = seed(options)
    except SeedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"{report.spans} spans in {report.requests} requests, {report.rejected_spans} rejected, "
        f"{report.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
