"""Analytics answered from the storage rollups on both storage paths (plain PostgreSQL tables,
TimescaleDB continuous aggregates) equal a direct SQL computation over raw spans; latency
percentiles within the histograms' 2.44 % of the exact nearest-rank value."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.api.app import create_app
from tests.api.conftest import api_config
from tests.api.direct import RANGE, rows
from tests.api.seed import seed

COUNTED = "project_id = 'default' AND llm_is_counted"
KEYS = {
    "provider": "coalesce(provider, '')",
    "model": "coalesce(request_model, response_model, '')",
    "operation": "coalesce(operation, '')",
    "service": "service_name",
    "environment": "coalesce(resource_attributes ->> 'deployment.environment.name', '')",
}
STEPS = {"1m": "1 minute", "1h": "1 hour", "1d": "1 day"}


@pytest.fixture
async def api_on(backend_url: str, redis_url: str) -> AsyncIterator[TestClient]:
    await seed(backend_url)
    async with TestClient(TestServer(create_app(api_config(backend_url, redis_url)))) as client:
        yield client


@pytest.mark.parametrize(
    ("interval", "group_by"),
    [("1m", "model"), ("1h", "provider"), ("1d", "environment"), ("1h", "operation"),
     ("1d", "service")],
)  # fmt: skip
async def test_usage_from_rollups_equals_raw_spans(
    api_on: TestClient, backend_url: str, interval: str, group_by: str
) -> None:
    body = await (
        await api_on.get(f"/v1/metrics/usage?interval={interval}&group_by={group_by}&{RANGE}")
    ).json()
    assert body["source"] == f"rollup_{interval}"
    expected = rows(
        backend_url,
        f"SELECT date_bin('{STEPS[interval]}', start_time, 'epoch'), {KEYS[group_by]}, "
        "count(*), count(*) FILTER (WHERE is_error OR status_code = 2), sum(input_tokens), "
        "sum(output_tokens), sum(cache_read_tokens), coalesce(sum(cost_usd), 0), "
        f"count(*) FILTER (WHERE cost_usd IS NULL) FROM spans WHERE {COUNTED} "
        "GROUP BY 1, 2 ORDER BY 1, 2",
    )
    found = [
        (i["bucket_start"], i["group"][group_by], i["requests"], i["errors"], i["input_tokens"],
         i["output_tokens"], i["cache_read_tokens"], Decimal(i["cost_usd"]),
         i["unpriced_requests"])
        for i in body["data"]
    ]  # fmt: skip
    assert found == [(row[0].isoformat().replace("+00:00", "Z"), *row[1:]) for row in expected]


async def test_totals_tile_days_hours_and_minutes(api_on: TestClient, backend_url: str) -> None:
    # A range with partial days at both ends: whole days, hours and minutes all take part.
    start, end = "2026-11-20T05:17:00Z", "2026-11-21T13:03:00Z"
    stats = await (await api_on.get(f"/v1/stats?from={start}&to={end}")).json()
    assert stats["source"] == "rollup_tiles"
    ((calls, errors, cost, tokens),) = rows(
        backend_url,
        "SELECT count(*), count(*) FILTER (WHERE is_error OR status_code = 2), "
        f"coalesce(sum(cost_usd), 0), sum(output_tokens) FROM spans WHERE {COUNTED} "
        "AND start_time >= %s AND start_time < %s",
        (start, end),
    )
    assert (stats["llm_call_count"], stats["error_count"], stats["output_tokens"]) == (
        calls, errors, tokens,
    )  # fmt: skip
    assert Decimal(stats["cost_usd"]) == cost
    models = await (await api_on.get(f"/v1/models?from={start}&to={end}")).json()
    assert sum(m["requests"] for m in models["data"]) == calls


async def test_latency_from_rollups_within_the_histogram_error(
    api_on: TestClient, backend_url: str
) -> None:
    body = await (
        await api_on.get(f"/v1/metrics/latency?interval=1d&group_by=model&{RANGE}")
    ).json()
    assert body["source"] == "rollup_1d"
    expected = rows(
        backend_url,
        f"SELECT date_bin('1 day', start_time, 'epoch'), {KEYS['model']}, count(*), "
        "percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms), "
        "percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms), "
        "percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_ms), "
        "count(time_to_first_token_ms), "
        "percentile_disc(0.5) WITHIN GROUP (ORDER BY time_to_first_token_ms) "
        f"FROM spans WHERE {COUNTED} GROUP BY 1, 2 ORDER BY 1, 2",
    )
    assert len(body["data"]) == len(expected)
    for item, row in zip(body["data"], expected, strict=True):
        _, model, count, p50, p95, p99, ttft_count, ttft_p50 = row
        assert (item["group"]["model"], item["requests"], item["ttft_count"]) == (
            model, count, ttft_count,
        )  # fmt: skip
        for found, exact in (
            (item["duration_p50_ms"], p50),
            (item["duration_p95_ms"], p95),
            (item["duration_p99_ms"], p99),
            (item["ttft_p50_ms"], ttft_p50),
        ):
            if exact is None:
                assert found is None
            else:
                assert abs(found - exact) <= 0.0244 * exact + 1e-9, (model, found, exact)
