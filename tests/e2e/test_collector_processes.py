"""Several collector processes on one host: with COLLECTOR_REUSE_PORT they share the OTLP ports
and the kernel spreads connections among them; without it a second one refuses to start."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import grpc
import pytest
import redis

from deploy.local.servers import find_free_port
from shared.handoff import decode_entry
from tests.e2e.otlp_load import build_request
from tests.e2e.services import ServiceProcess

METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
STREAM = "llmobs:reuse-port-test"


def collector(
    name: str, ports: dict[str, int], redis_url: str, database_url: str, tmp_path: Path,
    **env: str,
) -> ServiceProcess:  # fmt: skip
    metrics_port = find_free_port()
    settings = {
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "LLMOBS_DEV_MODE": "true",
        "COLLECTOR_HOST": "127.0.0.1", "COLLECTOR_GRPC_PORT": str(ports["grpc"]),
        "COLLECTOR_HTTP_PORT": str(ports["http"]), "COLLECTOR_METRICS_PORT": str(metrics_port),
        "HANDOFF_STREAM": STREAM,
    }  # fmt: skip
    return ServiceProcess(
        "collector",
        {**os.environ, **settings, **env},
        f"http://127.0.0.1:{metrics_port}/metrics",
        tmp_path / f"{name}.log",
    )


def received(process: ServiceProcess) -> float:
    """collector_spans_received_total of one process, summed over its labels."""
    with urllib.request.urlopen(process.health_url, timeout=5) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("collector_spans_received_total")
    )


def test_two_collectors_share_the_ports_and_queue_every_span(
    redis_url: str, database_url: str, tmp_path: Path
) -> None:
    ports = {"grpc": find_free_port(), "http": find_free_port()}
    processes = [
        collector(name, ports, redis_url, database_url, tmp_path, COLLECTOR_REUSE_PORT="true")
        for name in ("first", "second")
    ]
    try:
        for process in processes:
            process.start()
        requests = 40
        for batch in range(requests):
            # A new connection each time: the kernel picks a listener per connection.
            with grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}") as channel:
                channel.unary_unary(METHOD)(build_request(batch, 5), timeout=10)
        counts = [received(process) for process in processes]
        assert sum(counts) == requests * 5
        assert all(count > 0 for count in counts), counts
        client = redis.Redis.from_url(redis_url)
        queued = sum(len(decode_entry(fields).records) for _, fields in client.xrange(STREAM))
        assert queued == requests * 5
    finally:
        for process in processes:
            process.stop()


def test_without_reuse_port_a_second_collector_does_not_start(
    redis_url: str, database_url: str, tmp_path: Path
) -> None:
    ports = {"grpc": find_free_port(), "http": find_free_port()}
    first = collector("first", ports, redis_url, database_url, tmp_path)
    second = collector("second", ports, redis_url, database_url, tmp_path)
    try:
        first.start()
        with pytest.raises(RuntimeError, match="exited"):
            second.start(timeout_seconds=20)
        assert "COLLECTOR_GRPC_PORT): the address is in use" in second.log_path.read_text()
    finally:
        second.stop()
        first.stop()
