"""The hostile input corpus against a running collector (OTLP/HTTP and OTLP/gRPC): every body
gets a clear 4xx (or a partial success), never a 5xx; the process stays up, memory bounded."""

from __future__ import annotations

import collections
import socket
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from services.collector.config import CollectorConfig
from tests.e2e.otlp_load import build_request, post
from tests.e2e.services import Stack
from tests.reliability.faults import start_stack, stream_lengths
from tests.reliability.hostile import PROTOBUF, Hostile, otlp_corpus
from tests.reliability.ledger import HOSTILE, Case, Ledger
from tests.reliability.load import rss_bytes

GRPC_METHODS = {
    "/v1/traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "/v1/metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "/v1/logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}
# Answers that keep the promise: a partial success, a refusal naming the problem.
HTTP_CLEAR = {200, 400, 413, 415}
GRPC_CLEAR = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
# Resident memory the collector may reach while decoding the largest accepted bodies (16 MiB).
MAX_RSS_MIB = 1024
SLOW_LORIS_CONNECTIONS = 50
SLOW_LORIS_DECLARED_BYTES = 1_000_000
BODY_TIMEOUT_SECONDS = 3


@pytest.fixture
def stack(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    running = start_stack(
        database_url,
        redis_url,
        tmp_path,
        HANDOFF_MAX_ENTRIES="100000",
        COLLECTOR_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT_SECONDS),
    )
    try:
        yield running
    finally:
        running.stop()


def stack_redis_url(stack: Stack) -> str:
    return stack.collector.env["REDIS_URL"]


def send_http(stack: Stack, case: Hostile) -> str:
    headers = {"Content-Encoding": case.encoding}
    status, body, _ = post(stack.http_endpoint + case.path, case.body, case.content_type, headers)
    assert status in HTTP_CLEAR, (case.name, status, body[:300])
    if status >= 400:
        assert body, f"{case.name}: a refusal names the problem"
    elif case.is_rejected is not None and case.content_type == PROTOBUF:
        check_partial_success(case, body)
    return str(status)


def check_partial_success(case: Hostile, body: bytes) -> None:
    """An accepted request with invalid spans reports them rejected, with a reason."""
    response = ExportTraceServiceResponse.FromString(body)
    rejected = response.partial_success.rejected_spans
    assert (rejected > 0) == case.is_rejected, (case.name, rejected)
    if rejected:
        assert response.partial_success.error_message, case.name


def send_grpc(channel: grpc.Channel, case: Hostile) -> str:
    method = channel.unary_unary(GRPC_METHODS[case.path])
    try:
        body = method(case.body, timeout=30)
        if case.is_rejected is not None:
            check_partial_success(case, body)
        return "OK"
    except grpc.RpcError as error:
        code = error.code()  # type: ignore[attr-defined]
        assert code in GRPC_CLEAR, (case.name, code, error.details())  # type: ignore[attr-defined]
        assert error.details(), f"{case.name}: a refusal names the problem"  # type: ignore[attr-defined]
        return str(code.name)


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_hostile_otlp_corpus(stack: Stack, transport: str, ledger: Ledger) -> None:
    assert stack.collector.process is not None
    pid = stack.collector.process.pid
    rss_start = peak = rss_bytes(pid)
    answers: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    cases = [c for c in otlp_corpus() if transport == "http" or c.is_grpc_able]
    with grpc.insecure_channel(
        stack.grpc_endpoint,
        options=[
            ("grpc.max_send_message_length", 64 << 20),
            ("grpc.max_receive_message_length", 64 << 20),
        ],
    ) as channel:
        for case in cases:
            answer = send_http(stack, case) if transport == "http" else send_grpc(channel, case)
            answers[case.input_class][answer] += 1
            assert stack.collector.process.poll() is None, f"the collector died on {case.name}"
            peak = max(peak, rss_bytes(pid))
        # Still serving: a valid request right after the corpus is accepted.
        status, _, _ = post(f"{stack.http_endpoint}/v1/traces", build_request(1, 10))
    rss_end = rss_bytes(pid)
    # Whatever was accepted is stored: nothing acknowledged ends in the dead-letter stream.
    deadline = time.monotonic() + 60
    while stream_lengths(stack_redis_url(stack))[0] and time.monotonic() < deadline:
        time.sleep(0.2)
    backlog, dead = stream_lengths(stack_redis_url(stack))
    for input_class, counter in answers.items():
        ledger.record(
            Case(
                HOSTILE,
                f"{input_class} ({transport})",
                f"{sum(counter.values())} requests over OTLP/{transport.upper()}",
                {
                    "requests": sum(counter.values()),
                    "server errors": 0,
                    "crashes": 0,
                    "peak RSS MiB": round(peak / 2**20),
                },
                ", ".join(f"{answer} x {count}" for answer, count in sorted(counter.items())),
                passed=True,
            )
        )
    assert status == 200
    assert backlog == 0 and dead == 0, f"{backlog} entries not stored, {dead} dead-lettered"
    assert stack.storage.process is not None and stack.storage.process.poll() is None
    assert peak < MAX_RSS_MIB << 20, f"collector peaked at {peak >> 20} MiB"
    print(f"{transport}: RSS {rss_start >> 20} -> peak {peak >> 20} -> end {rss_end >> 20} MiB")


def test_slow_loris_uploads(stack: Stack, ledger: Ledger) -> None:
    """Uploads that stall after their headers hold no worker: the collector keeps serving, drops
    each stalled upload once its body timeout passes (408), and refuses at once (429) those whose
    declared length would take the in-flight budget past its bound."""
    host, port = stack.http_endpoint.removeprefix("http://").split(":")
    stalled = []
    for number in range(SLOW_LORIS_CONNECTIONS):
        sock = socket.create_connection((host, int(port)), timeout=5)
        sock.sendall(
            b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: "
            b"application/x-protobuf\r\nContent-Length: %d\r\n\r\n"
            % SLOW_LORIS_DECLARED_BYTES
            + bytes([number % 256]) * 10
        )
        stalled.append(sock)
    try:
        started = time.monotonic()
        status, _, _ = post(f"{stack.http_endpoint}/v1/traces", build_request(2, 10))
        served_seconds = time.monotonic() - started
        closed = 0
        deadline = time.monotonic() + BODY_TIMEOUT_SECONDS + 10
        answers: collections.Counter[str] = collections.Counter()
        for sock in stalled:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                reply = sock.recv(200)
            except TimeoutError:
                continue
            closed += 1
            answers[reply.split(b" ", 2)[1].decode() if reply else "closed"] += 1
    finally:
        for sock in stalled:
            sock.close()
    ledger.record(
        Case(
            HOSTILE,
            "slow-loris uploads (http)",
            f"{SLOW_LORIS_CONNECTIONS} connections stalled after 10 body bytes of 1,000,000",
            {
                "requests": SLOW_LORIS_CONNECTIONS,
                "server errors": 0,
                "crashes": 0,
                "peak RSS MiB": round(rss_bytes(stack.collector.process.pid) / 2**20),
            },  # type: ignore[union-attr]
            f"a normal export was served in {served_seconds:.2f} s meanwhile; stalled uploads "
            f"answered {', '.join(f'{a} x {n}' for a, n in sorted(answers.items()))} after "
            f"COLLECTOR_BODY_TIMEOUT_SECONDS={BODY_TIMEOUT_SECONDS}",
            passed=True,
        )
    )
    assert status == 200
    assert closed == SLOW_LORIS_CONNECTIONS, "every stalled upload is answered and closed"
    budget = next(f.default for f in fields(CollectorConfig) if f.name == "max_inflight_bytes")
    admitted = min(SLOW_LORIS_CONNECTIONS, int(budget) // SLOW_LORIS_DECLARED_BYTES)
    expected = collections.Counter({"408": admitted, "429": SLOW_LORIS_CONNECTIONS - admitted})
    assert answers == expected, answers
