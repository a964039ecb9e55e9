"""The observed-usage feed: OTLP spans sent to a real collector charge the usage-limit buckets
in Redis of their user and project, except spans naming a lease; projects without limits
cost no Redis call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from shared.limit_buckets import LimitBuckets
from shared.usage_limits import LEASE_ID_ATTRIBUTE, Entity, applicable, parse_defaults
from tests.collector.conftest import CollectorUnderTest, start_collector

DEFAULTS = "user:rpm=100,tpm=10000;project:tpm=50000"
JSON = {"Content-Type": "application/json"}


def attribute(key: str, value: Any) -> dict[str, Any]:
    kind = "intValue" if isinstance(value, int) else "stringValue"
    return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}


def chat_span(number: int, user: str | None, tokens: tuple[int, int], lease: str = "") -> Any:
    attributes = [
        attribute("gen_ai.operation.name", "chat"), attribute("gen_ai.provider.name", "openai"),
        attribute("gen_ai.request.model", "gpt-4o"),
        attribute("gen_ai.usage.input_tokens", tokens[0]),
        attribute("gen_ai.usage.output_tokens", tokens[1]),
    ]  # fmt: skip
    if user:
        attributes.append(attribute("user.id", user))
    if lease:
        attributes.append(attribute(LEASE_ID_ATTRIBUTE, lease))
    return {
        "traceId": f"{number:032x}", "spanId": f"{number:016x}", "name": "chat gpt-4o",
        "kind": 3, "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000", "attributes": attributes,
    }  # fmt: skip


def export(spans: list[Any]) -> bytes:
    return orjson.dumps({"resourceSpans": [{
        "resource": {"attributes": [attribute("service.name", "chat-app")]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
    }]})  # fmt: skip


@pytest.fixture
async def collector(redis_url: str, database_url: str) -> AsyncIterator[CollectorUnderTest]:
    running = await start_collector(
        redis_url, database_url, steps=[{"type": "normalize"}], limits_defaults=DEFAULTS
    )
    yield running
    await running.stop()


async def levels(collector: CollectorUnderTest, entity: Entity) -> dict[tuple[str, str], int]:
    specs = applicable("default", parse_defaults(DEFAULTS, 0), entity, "gpt-4o", True)
    states, _ = await LimitBuckets(collector.redis).peek(specs)
    return {(s.spec.entity.name, s.spec.unit): s.level_milli for s in states}


async def test_observed_calls_charge_user_and_project(collector: CollectorUnderTest) -> None:
    spans = [
        chat_span(1, "alice", (1000, 200)), chat_span(2, "alice", (500, 100)),
        chat_span(3, "bob", (300, 0)), chat_span(4, "alice", (4000, 0), lease="ab" * 16),
    ]  # fmt: skip
    response = await collector.http.post("/v1/traces", data=export(spans), headers=JSON)
    assert response.status == 200
    alice = await levels(collector, Entity("user", "alice"))
    # Two calls of alice, 1800 tokens; the leased one is left to its lease. What refilled
    # since the charge is far less than one call's tokens (10 000 per minute: 167 per second).
    assert 98_000 <= alice["user:alice", "rpm"] < 98_500
    assert 8_200_000 <= alice["user:alice", "tpm"] < 8_250_000
    assert 47_900_000 <= alice["project", "tpm"] < 47_950_000
    bob = await levels(collector, Entity("user", "bob"))
    assert 9_700_000 <= bob["user:bob", "tpm"] < 9_750_000
    counted = collector.metrics.limit_usage_spans
    assert counted.labels("charged")._value.get() == 3
    assert counted.labels("leased")._value.get() == 1


async def test_a_project_without_limits_touches_no_bucket(
    redis_url: str, database_url: str
) -> None:
    running = await start_collector(redis_url, database_url, steps=[{"type": "normalize"}])
    try:
        response = await running.http.post(
            "/v1/traces", data=export([chat_span(1, "alice", (10, 10))]), headers=JSON
        )
        assert response.status == 200
        assert await running.redis.keys("llmobs:limits:*") == []
        assert running.metrics.limit_usage_spans.labels("charged")._value.get() == 0
    finally:
        await running.stop()
