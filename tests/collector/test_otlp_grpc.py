"""OTLP/gRPC: success only once queued; INVALID_ARGUMENT, UNAVAILABLE and RESOURCE_EXHAUSTED
with RetryInfo where the specification asks for them."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.collector.conftest import CollectorUnderTest, start_collector
from tests.collector.test_otlp_http import stream_span_count
from tests.e2e.otlp_load import build_request

METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


async def call(
    target: str, body: bytes, compression: grpc.Compression | None = None, method: str = METHOD
) -> bytes:
    async with grpc.aio.insecure_channel(target) as channel:
        export = channel.unary_unary(method)
        result: bytes = await export(body, timeout=5, compression=compression)
        return result


def retry_delay_seconds(error: grpc.aio.AioRpcError) -> int:
    details = dict(error.trailing_metadata() or ())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(details)
    info = error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(info)
    return info.retry_delay.seconds


async def test_export_is_queued_and_gzip_works(collector: CollectorUnderTest) -> None:
    reply = await call(collector.grpc_target, build_request(0, 4))
    assert not ExportTraceServiceResponse.FromString(reply).HasField("partial_success")
    await call(collector.grpc_target, build_request(1, 3), grpc.Compression.Gzip)
    assert await stream_span_count(collector) == 7


async def test_malformed_message_is_invalid_argument(collector: CollectorUnderTest) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(collector.grpc_target, build_request(0, 4)[:-9])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid ExportTraceServiceRequest" in (caught.value.details() or "")
    await call(collector.grpc_target, build_request(0, 1))
    assert await stream_span_count(collector) == 1


async def test_partial_success_counts_rejected_spans(collector: CollectorUnderTest) -> None:
    request = ExportTraceServiceRequest.FromString(build_request(2, 3))
    request.resource_spans[0].scope_spans[0].spans[0].start_time_unix_nano = 0
    reply = ExportTraceServiceResponse.FromString(
        await call(collector.grpc_target, request.SerializeToString())
    )
    assert reply.partial_success.rejected_spans == 1
    assert "start_time_unix_nano is missing" in reply.partial_success.error_message
    assert await stream_span_count(collector) == 2


async def test_redis_down_is_unavailable_with_retry_info(redis_url: str, database_url: str) -> None:
    running = await start_collector("redis://127.0.0.1:1/0", database_url)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(running.grpc_target, build_request(3, 2))
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert retry_delay_seconds(caught.value) >= 1
    finally:
        await running.stop()


async def test_full_handoff_is_resource_exhausted_with_retry_info(
    redis_url: str, database_url: str
) -> None:
    running = await start_collector(redis_url, database_url, max_stream_entries=1)
    try:
        await call(running.grpc_target, build_request(4, 1))
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(running.grpc_target, build_request(5, 1))
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert retry_delay_seconds(caught.value) >= 1
        assert await stream_span_count(running) == 1
    finally:
        await running.stop()
