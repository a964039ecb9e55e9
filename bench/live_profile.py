"""Where a running service's time goes under load: py-spy samples the collector (or storage)
process of a real stack while the ingest load runs, and the samples are summed by part of the
ingest path (each on-CPU sample counts once, for the deepest part its stack is in). Usage:

    .venv/bin/python -m bench.live_profile --spans 80000 --seconds 15
    .venv/bin/python -m bench.live_profile --spans 80000 --seconds 15 --service storage

Unlike bench/pipeline_profile.py (the processors alone, in a loop), this includes both
transports, the event loop, the hand-off and the LLM metrics stage, at the load's own pace.
Needs py-spy (the `bench` extra) and permission to trace the process (root, or ptrace allowed).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench.load import prepare
from bench.measure import measure
from bench.sut.observatory import Observatory
from deploy.local.servers import start_postgres, start_redis

# (part, substrings of a frame that put a sample in it); the deepest matching frame decides.
PARTS = {
    "collector": (
        ("protobuf parse", ("parse_protobuf",)),
        ("decode to spans", ("decode_export_request", "shared/otlp/")),
        ("normalize", ("processors/normalize.py", "processors/conventions/")),
        ("redact", ("processors/redact.py", "processors/pii/")),
        ("price", ("processors/price.py", "shared/pricing.py", "genai_prices/")),
        ("estimate_tokens", ("processors/estimate_tokens.py",)),
        ("LLM metrics stage", ("llm_metrics",)),
        ("hand-off encoding", ("shared/handoff.py",)),
        ("Redis client", ("redis/",)),
        ("gRPC server", ("grpc/",)),
        ("HTTP server (aiohttp)", ("aiohttp/",)),
    ),
    "storage": (
        ("hand-off decoding", ("shared/handoff.py",)),
        ("rows from records", ("services/storage/rows.py", "log_records.py", "metric_points.py")),
        ("COPY (psycopg)", ("psycopg/copy", "psycopg/_copy", "_stage (services/storage/writer.py")),
        ("statements (psycopg)", ("psycopg/",)),
        ("Redis client", ("redis/",)),
        ("stream consumer and batcher", ("services/storage/consume.py", "batcher.py")),
    ),
}


def part_of(frames: list[str], service: str) -> str:
    """The part of the ingest path a sample's stack (outermost frame first) is in."""
    for frame in reversed(frames):
        for part, keys in PARTS[service]:
            if any(key in frame for key in keys):
                return part
    return "other (event loop and the service's own code)"


def summarize(folded: Path, service: str) -> tuple[collections.Counter[str], int]:
    """Samples per part from py-spy's raw (folded) output."""
    parts: collections.Counter[str] = collections.Counter()
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            parts[part_of(stack.split(";"), service)] += int(count)
    return parts, sum(parts.values())


def record(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """Start py-spy on `pid` for `seconds`, writing folded stacks to `output`."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--rate", "100", "--duration", str(int(seconds)),
         "--format", "raw", "--nonblocking", "--output", str(output)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=80_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--service", choices=sorted(PARTS), default="collector")
    parser.add_argument("--seconds", type=float, default=15.0,
                        help="how long to sample, from 3 s after the load starts")  # fmt: skip
    args = parser.parse_args()
    bodies = prepare(args.spans, 7)
    with tempfile.TemporaryDirectory(prefix="llmobs-profile-") as scratch:
        work = Path(scratch)
        with start_postgres(work / "pg", throwaway=True) as pg, \
                start_redis(work / "redis", throwaway=True) as rds:  # fmt: skip
            system = Observatory(pg.url, rds.url, work / "stack", "bench")
            system.start()
            try:
                pid = system.server_pids()[args.service]
                folded = work / f"{args.service}.folded"
                spy: list[subprocess.Popen[bytes]] = []
                timer = threading.Timer(3.0, lambda: spy.append(record(pid, args.seconds, folded)))
                timer.start()
                result = measure(system, bodies, args.concurrency)
                timer.join()
                _, errors = spy[0].communicate()
                if spy[0].returncode != 0:
                    sys.exit(f"py-spy failed: {errors.decode(errors='replace')}")
                parts, total = summarize(folded, args.service)
            finally:
                system.stop()
    print(f"{result.stored:,} spans stored at {result.end_to_end_per_second:,.0f} spans/s end to"
          f" end; {total} on-CPU samples of {args.service} in {args.seconds:.0f} s")  # fmt: skip
    for part, count in parts.most_common():
        print(f"  {part:48s} {100 * count / total:5.1f} %")


if __name__ == "__main__":
    main()
