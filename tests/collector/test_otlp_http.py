"""OTLP/HTTP: success only once queued, and a clear 4xx for every kind of bad body."""

from __future__ import annotations

import gzip

from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from shared.handoff import decode_entry
from tests.collector.conftest import STREAM, CollectorUnderTest, start_collector
from tests.e2e.otlp_load import build_request

PROTOBUF = {"Content-Type": "application/x-protobuf"}


async def stream_span_count(collector: CollectorUnderTest) -> int:
    entries = await collector.redis.xrange(STREAM)
    return sum(len(decode_entry(fields).records) for _, fields in entries)


async def test_accepted_spans_are_in_the_stream_before_success(
    collector: CollectorUnderTest,
) -> None:
    response = await collector.http.post("/v1/traces", data=build_request(0, 7), headers=PROTOBUF)
    assert response.status == 200
    assert response.content_type == "application/x-protobuf"
    parsed = ExportTraceServiceResponse.FromString(await response.read())
    assert not parsed.HasField("partial_success")
    assert await stream_span_count(collector) == 7


async def test_gzip_body_is_accepted(collector: CollectorUnderTest) -> None:
    response = await collector.http.post(
        "/v1/traces",
        data=gzip.compress(build_request(1, 3)),
        headers={**PROTOBUF, "Content-Encoding": "gzip"},
    )
    assert response.status == 200
    assert await stream_span_count(collector) == 3


async def assert_rejected(
    collector: CollectorUnderTest, body: bytes, headers: dict[str, str], status: int, words: str
) -> None:
    response = await collector.http.post("/v1/traces", data=body, headers=headers)
    assert response.status == status
    raw = await response.read()
    if response.content_type == "application/x-protobuf":
        message = status_pb2.Status.FromString(raw).message
    else:
        message = (await response.json())["message"]
    assert words in message


async def test_bad_bodies_get_a_4xx_naming_the_problem(collector: CollectorUnderTest) -> None:
    good = build_request(2, 5)
    await assert_rejected(
        collector, good[:-7], PROTOBUF, 400, "not a valid ExportTraceServiceRequest"
    )
    await assert_rejected(collector, b"", PROTOBUF, 400, "empty")
    await assert_rejected(collector, good, {"Content-Type": "text/plain"}, 415, "text/plain")
    await assert_rejected(
        collector, good, {**PROTOBUF, "Content-Encoding": "br"}, 415, "Content-Encoding 'br'"
    )
    await assert_rejected(
        collector, gzip.compress(good)[:-10], {**PROTOBUF, "Content-Encoding": "gzip"}, 400, "gzip"
    )
    # Nothing bad reached the stream, and the collector still serves.
    assert await stream_span_count(collector) == 0
    response = await collector.http.post("/v1/traces", data=good, headers=PROTOBUF)
    assert response.status == 200
    assert await stream_span_count(collector) == 5


async def test_oversized_and_bomb_bodies_get_413(redis_url: str, database_url: str) -> None:
    running = await start_collector(redis_url, database_url, max_request_bytes=64 * 1024)
    try:
        big = build_request(3, 2000)
        assert len(big) > 64 * 1024
        await assert_rejected(running, big, PROTOBUF, 413, "limit of 65536 bytes")
        bomb = gzip.compress(b"\x00" * (10 * 1024 * 1024))
        assert len(bomb) < 64 * 1024
        await assert_rejected(
            running, bomb, {**PROTOBUF, "Content-Encoding": "gzip"}, 413, "decompressed body"
        )
    finally:
        await running.stop()


async def test_invalid_spans_are_dropped_with_partial_success(
    collector: CollectorUnderTest,
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest.FromString(build_request(4, 4))
    spans = request.resource_spans[0].scope_spans[0].spans
    spans[1].trace_id = b"\x00" * 16
    spans[2].span_id = b"\x01\x02"
    response = await collector.http.post(
        "/v1/traces", data=request.SerializeToString(), headers=PROTOBUF
    )
    assert response.status == 200
    parsed = ExportTraceServiceResponse.FromString(await response.read())
    assert parsed.partial_success.rejected_spans == 2
    assert "trace_id must be 16 non-zero bytes" in parsed.partial_success.error_message
    assert "span_id must be 8 non-zero bytes" in parsed.partial_success.error_message
    assert await stream_span_count(collector) == 2


async def test_full_handoff_answers_429_with_retry_after(redis_url: str, database_url: str) -> None:
    running = await start_collector(redis_url, database_url, max_stream_entries=2)
    try:
        for batch in range(2):
            response = await running.http.post(
                "/v1/traces", data=build_request(batch, 1), headers=PROTOBUF
            )
            assert response.status == 200
        response = await running.http.post("/v1/traces", data=build_request(9, 1), headers=PROTOBUF)
        assert response.status == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert await stream_span_count(running) == 2
    finally:
        await running.stop()


async def test_redis_down_answers_503_with_retry_after(database_url: str) -> None:
    unreachable = await start_collector("redis://127.0.0.1:1/0", database_url)
    try:
        response = await unreachable.http.post(
            "/v1/traces", data=build_request(5, 2), headers=PROTOBUF
        )
        assert response.status == 503
        assert int(response.headers["Retry-After"]) >= 1
        message = status_pb2.Status.FromString(await response.read()).message
        assert "unavailable" in message
    finally:
        await unreachable.stop()


async def test_handoff_depth_is_exported(collector: CollectorUnderTest) -> None:
    for batch in range(3):
        response = await collector.http.post(
            "/v1/traces", data=build_request(batch, 1), headers=PROTOBUF
        )
        assert response.status == 200
    depth = collector.metrics.registry.get_sample_value("collector_handoff_stream_length")
    assert depth == await collector.redis.xlen(STREAM) == 3
