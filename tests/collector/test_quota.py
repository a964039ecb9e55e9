"""Per-project ingest quotas: 429 / RESOURCE_EXHAUSTED with the bucket's wait, other projects
unaffected, overrides per project, and a limiter fault that admits rather than refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import psycopg
import pytest
import redis.asyncio as redis
from google.rpc import error_details_pb2, status_pb2

from services.collector.metrics import CollectorMetrics
from services.collector.quota import IngestQuota, Limits, ProjectLimits
from shared.db import open_pool
from shared.errors import ThrottledError
from shared.token_bucket import TokenBuckets
from tests.collector.conftest import CollectorUnderTest, add_key, start_collector, stream_batches
from tests.e2e.otlp_load import build_request

PROTOBUF = {"Content-Type": "application/x-protobuf"}
METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


@pytest.fixture
async def limited(redis_url: str, database_url: str) -> AsyncIterator[CollectorUnderTest]:
    """Two requests and 100 spans per second per project, unless a project says otherwise."""
    running = await start_collector(
        redis_url, database_url, dev_mode=False,
        ingest_requests_per_second=2, ingest_spans_per_second=100,
    )  # fmt: skip
    yield running
    await running.stop()


async def send(collector: CollectorUnderTest, secret: str, batch: int, spans: int = 1) -> int:
    response = await collector.http.post(
        "/v1/traces",
        data=build_request(batch, spans),
        headers={**PROTOBUF, "Authorization": f"Bearer {secret}"},
    )
    return response.status


def refusals(collector: CollectorUnderTest, transport: str, limit: str) -> float:
    value = collector.metrics.registry.get_sample_value(
        "collector_quota_refusals_total",
        {"signal": "traces", "transport": transport, "limit": limit},
    )
    return value or 0.0


async def test_a_project_over_its_request_rate_gets_429_and_others_do_not(
    limited: CollectorUnderTest, database_url: str
) -> None:
    alpha = await add_key(database_url, "alpha")
    beta = await add_key(database_url, "beta")
    assert [await send(limited, alpha.secret, n) for n in range(2)] == [200, 200]
    response = await limited.http.post(
        "/v1/traces", data=build_request(2, 1),
        headers={**PROTOBUF, "Authorization": f"Bearer {alpha.secret}"},
    )  # fmt: skip
    assert response.status == 429
    assert response.headers["Retry-After"] == "1"
    message = status_pb2.Status.FromString(await response.read()).message
    assert "'alpha' is over its ingest quota of 2 requests per second" in message
    assert [await send(limited, beta.secret, n) for n in range(3, 5)] == [200, 200]
    assert refusals(limited, "http", "requests") == 1
    assert (
        sorted(b.project_id for b in await stream_batches(limited)) == ["alpha"] * 2 + ["beta"] * 2
    )


async def test_a_project_over_its_span_rate_gets_resource_exhausted_with_retry_info(
    limited: CollectorUnderTest, database_url: str
) -> None:
    alpha = await add_key(database_url, "alpha")
    assert await send(limited, alpha.secret, 0, spans=70) == 200
    async with grpc.aio.insecure_channel(limited.grpc_target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await channel.unary_unary(METHOD)(
                build_request(1, 70), timeout=10,
                metadata=(("authorization", f"Bearer {alpha.secret}"),),
            )  # fmt: skip
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "over its ingest quota of 100 spans per second" in (caught.value.details() or "")
    details = dict(caught.value.trailing_metadata() or ())["grpc-status-details-bin"]
    info = error_details_pb2.RetryInfo()
    assert status_pb2.Status.FromString(details).details[0].Unpack(info)
    # 30 tokens left, 70 needed: 400 ms at 100 per second, rounded up to a whole second.
    assert info.retry_delay.seconds == 1
    assert refusals(limited, "grpc", "spans") == 1
    # The refused request took nothing: a small one still fits.
    assert await send(limited, alpha.secret, 2, spans=30) == 200


async def test_project_overrides_replace_the_defaults(
    limited: CollectorUnderTest, database_url: str
) -> None:
    strict_key = await add_key(database_url, "strict")
    free_key = await add_key(database_url, "free")
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO project_quotas (project_id, requests_per_second, spans_per_second)"
            " VALUES ('strict', 1, NULL), ('free', 0, 0)"
        )
    assert [await send(limited, strict_key.secret, n) for n in range(2)] == [200, 429]
    statuses = [await send(limited, free_key.secret, n, spans=150) for n in range(2, 8)]
    assert statuses == [200] * 6


async def test_a_limiter_fault_admits_and_is_counted(database_url: str) -> None:
    metrics = CollectorMetrics()
    pool = await open_pool(database_url, 1, 1)
    broken = redis.Redis.from_url("redis://127.0.0.1:1/0")
    try:
        limits = ProjectLimits(pool, Limits(1, 1), 60, 600, metrics)
        quota = IngestQuota(TokenBuckets(broken), limits, 1, metrics)
        for _ in range(3):
            await quota.admit("default", 5, "traces", "http")
        assert metrics.registry.get_sample_value("collector_quota_check_errors_total") == 3
    finally:
        await broken.aclose()
        await pool.close()


async def test_quota_rows_unreachable_fall_back_to_the_defaults(redis_url: str) -> None:
    metrics = CollectorMetrics()
    pool = await open_pool("postgresql://postgres@127.0.0.1:1/none", 1, 1)
    client = redis.Redis.from_url(redis_url)
    try:
        limits = ProjectLimits(pool, Limits(1, 0), 60, 600, metrics, lookup_timeout_seconds=0.2)
        assert await limits.limits_of("alpha") == Limits(1, 0)
        assert await limits.limits_of("alpha") == Limits(1, 0)
        lookups = {
            result: metrics.registry.get_sample_value(
                "collector_quota_limit_lookups_total", {"result": result}
            )
            for result in ("default", "hit")
        }
        assert lookups == {"default": 1, "hit": 1}
        quota = IngestQuota(TokenBuckets(client), limits, 1, metrics)
        await quota.admit("alpha", 1, "traces", "http")
        with pytest.raises(ThrottledError):
            await quota.admit("alpha", 1, "traces", "http")
    finally:
        await client.aclose()
        await pool.close()
