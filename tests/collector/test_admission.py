"""Admission control: requests over the in-flight byte budget are refused at once (429 with
Retry-After / RESOURCE_EXHAUSTED), every accepted span is queued, and the budget drains;
admitted requests are worked on one at a time, in the order they were admitted."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.rpc import status_pb2

from services.collector.admission import InflightBytes
from shared.errors import ThrottledError
from tests.collector.conftest import start_collector, stream_batches
from tests.e2e.otlp_load import build_request

PROTOBUF = {"Content-Type": "application/x-protobuf"}
METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def test_a_request_alone_is_admitted_whatever_its_size() -> None:
    budget = InflightBytes(max_bytes=100)
    with budget.reserve(1000) as held:
        assert held.held_bytes == 1000
        with pytest.raises(ThrottledError) as refused, budget.reserve(1):
            pass
        assert refused.value.retry_after_seconds >= 1
    assert budget.used_bytes == 0
    with budget.reserve(60), budget.reserve(40) as second:
        assert budget.used_bytes == 100
        with pytest.raises(ThrottledError):
            second.grow_to(41)
    assert budget.used_bytes == 0


async def test_concurrent_requests_over_the_budget_are_refused_and_none_lost(
    redis_url: str, database_url: str
) -> None:
    bodies = [build_request(batch, 200) for batch in range(24)]
    budget = 3 * max(len(body) for body in bodies)
    collector = await start_collector(redis_url, database_url, max_inflight_bytes=budget)
    try:
        http = [
            collector.http.post("/v1/traces", data=body, headers=PROTOBUF) for body in bodies[:12]
        ]
        async with grpc.aio.insecure_channel(collector.grpc_target) as channel:
            export = channel.unary_unary(METHOD)
            calls = [export(body) for body in bodies[12:]]
            results = await asyncio.gather(*http, *calls, return_exceptions=True)
        accepted = 0
        refused = 0
        spans = 200
        for result in results:
            if isinstance(result, grpc.aio.AioRpcError):
                assert result.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, result
                assert "busy" in (result.details() or "")
                refused += 1
            elif isinstance(result, bytes):
                accepted += spans
            else:
                assert not isinstance(result, BaseException), result
                if result.status == 429:
                    assert int(result.headers["Retry-After"]) >= 1
                    assert "busy" in status_pb2.Status.FromString(await result.read()).message
                    refused += 1
                else:
                    assert result.status == 200, await result.text()
                    accepted += spans
        assert refused > 0
        assert accepted > 0
        queued = sum(len(batch.records) for batch in await stream_batches(collector))
        assert queued == accepted
        assert collector.metrics.registry.get_sample_value("collector_inflight_request_bytes") == 0
    finally:
        await collector.stop()


async def test_turns_are_taken_one_at_a_time_first_come_first_served() -> None:
    budget = InflightBytes(max_bytes=100)
    order: list[int] = []
    holders = 0

    async def request(number: int) -> None:
        nonlocal holders
        async with budget.turn():
            holders += 1
            assert holders == 1, "two requests in their turn at once"
            order.append(number)
            await asyncio.sleep(0)  # a hand-off's await: another request must not start
            holders -= 1

    tasks = []
    for number in range(6):
        tasks.append(asyncio.create_task(request(number)))
        await asyncio.sleep(0)  # admitted in this order
    await asyncio.gather(*tasks)
    assert order == list(range(6))


async def test_an_admitted_request_waits_for_its_turn_holding_only_its_bytes(
    redis_url: str, database_url: str
) -> None:
    collector = await start_collector(redis_url, database_url)
    body = build_request(0, 50)
    inflight_gauge = "collector_inflight_request_bytes"
    try:
        async with grpc.aio.insecure_channel(collector.grpc_target) as channel:
            export = channel.unary_unary(METHOD)
            async with collector.inflight.turn():  # another request is being worked on
                call = asyncio.ensure_future(export(body))
                for _ in range(500):
                    if collector.metrics.registry.get_sample_value(inflight_gauge):
                        break
                    await asyncio.sleep(0.01)
                assert collector.metrics.registry.get_sample_value(inflight_gauge) == len(body)
                # It cannot be answered while the turn is held; give it the time to show it is.
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(call), 0.5)
                assert await stream_batches(collector) == []  # not processed while waiting
            await call
        queued = sum(len(batch.records) for batch in await stream_batches(collector))
        assert queued == 50
        assert collector.metrics.registry.get_sample_value(inflight_gauge) == 0
    finally:
        await collector.stop()
