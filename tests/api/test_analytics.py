"""Usage, latency, stats, models and errors against direct SQL over raw spans; the cache."""

from __future__ import annotations

from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.api.conftest import api_config
from tests.api.direct import RANGE, rows
from tests.api.seed import BASE_NS, seed
from tests.storage.test_trace_counts import span
from tests.storage.test_trace_counts import write as write_traces

P = "project_id = 'default' AND llm_is_counted"
MODEL = "coalesce(request_model, response_model, '')"


@pytest.fixture
async def seeded(api: TestClient, database_url: str) -> TestClient:
    await seed(database_url)
    return api


async def test_usage_per_hour_and_model(seeded: TestClient, database_url: str) -> None:
    body = await (await seeded.get(f"/v1/metrics/usage?interval=1h&group_by=model&{RANGE}")).json()
    expected = rows(
        database_url,
        f"SELECT date_bin('1 hour', start_time, 'epoch'), {MODEL}, count(*), "
        "count(*) FILTER (WHERE is_error OR status_code = 2), sum(input_tokens), "
        "sum(output_tokens), sum(cache_read_tokens), sum(reasoning_tokens), "
        "coalesce(sum(cost_usd), 0), count(*) FILTER (WHERE cost_usd IS NULL) "
        f"FROM spans WHERE {P} GROUP BY 1, 2 ORDER BY 1, 2",
    )
    found = [
        (
            item["bucket_start"], item["group"]["model"], item["requests"], item["errors"],
            item["input_tokens"], item["output_tokens"], item["cache_read_tokens"],
            item["reasoning_tokens"], Decimal(item["cost_usd"]), item["unpriced_requests"],
        )
        for item in body["data"]
    ]  # fmt: skip
    assert found == [(row[0].isoformat().replace("+00:00", "Z"), *row[1:]) for row in expected]
    assert body["group_by"] == ["model"] and body["interval"] == "1h"


async def test_usage_groups_and_filters(seeded: TestClient, database_url: str) -> None:
    url = f"/v1/metrics/usage?interval=1d&group_by=provider&group_by=user&environment=prod&{RANGE}"
    body = await (await seeded.get(url)).json()
    expected = rows(
        database_url,
        "SELECT date_bin('1 day', start_time, 'epoch'), provider, coalesce(user_id, ''), "
        "count(*), coalesce(sum(cost_usd), 0) FROM spans WHERE "
        f"{P} AND resource_attributes ->> 'deployment.environment.name' = 'prod' "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    found = [
        (i["group"]["provider"], i["group"]["user"], i["requests"], Decimal(i["cost_usd"]))
        for i in body["data"]
    ]
    assert found == [row[1:] for row in expected]


async def test_latency_percentiles(seeded: TestClient, database_url: str) -> None:
    body = await (
        await seeded.get(f"/v1/metrics/latency?interval=1d&group_by=provider&{RANGE}")
    ).json()
    expected = rows(
        database_url,
        "SELECT provider, count(*), "
        "percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms), "
        "percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms), "
        "percentile_disc(0.99) WITHIN GROUP (ORDER BY time_to_first_token_ms) "
        f"FROM spans WHERE {P} GROUP BY date_bin('1 day', start_time, 'epoch'), 1 ORDER BY "
        "date_bin('1 day', start_time, 'epoch'), 1",
    )
    assert len(body["data"]) == len(expected)
    for item, (provider, count, p50, p95, ttft_p99) in zip(body["data"], expected, strict=True):
        assert (item["group"]["provider"], item["requests"]) == (provider, count)
        assert item["duration_p50_ms"] == pytest.approx(p50, rel=0.05)
        assert item["duration_p95_ms"] == pytest.approx(p95, rel=0.05)
        assert item["ttft_p99_ms"] == pytest.approx(ttft_p99, rel=0.05)


async def test_stats_models_and_errors(seeded: TestClient, database_url: str) -> None:
    stats = await (await seeded.get(f"/v1/stats?{RANGE}")).json()
    ((calls, errors, cost, input_tokens, traces),) = rows(
        database_url,
        "SELECT count(*) FILTER (WHERE llm_is_counted), "
        "count(*) FILTER (WHERE llm_is_counted AND (is_error OR status_code = 2)), "
        "coalesce(sum(cost_usd) FILTER (WHERE llm_is_counted), 0), "
        "sum(input_tokens) FILTER (WHERE llm_is_counted), count(DISTINCT trace_id) "
        "FROM spans WHERE project_id = 'default'",
    )
    assert (stats["llm_call_count"], stats["error_count"], stats["trace_count"]) == (
        calls, errors, traces,
    )  # fmt: skip
    assert Decimal(stats["cost_usd"]) == cost and stats["input_tokens"] == input_tokens
    assert stats["error_rate"] == pytest.approx(errors / calls)

    models = await (await seeded.get(f"/v1/models?{RANGE}&limit=2")).json()
    everything = models["data"]
    while models["next_cursor"]:
        models = await (
            await seeded.get(f"/v1/models?{RANGE}&limit=2&cursor={models['next_cursor']}")
        ).json()
        everything += models["data"]
    expected = rows(
        database_url,
        f"SELECT {MODEL}, count(*), coalesce(sum(cost_usd), 0), bool_or(cost_usd IS NULL) "
        f"FROM spans WHERE {P} GROUP BY 1 ORDER BY 1",
    )
    assert [(m["model"], m["requests"], Decimal(m["cost_usd"]), not m["is_priced"])
            for m in everything] == expected  # fmt: skip
    assert models["unpriced_models"] == ["custom-ft"]

    groups = await (await seeded.get(f"/v1/errors?{RANGE}")).json()
    expected = rows(
        database_url,
        f"SELECT error_type, {MODEL}, count(*) FROM spans WHERE project_id = 'default' "
        "AND status_code = 2 GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
    )
    assert [(g["error_type"], g["model"], g["count"]) for g in groups["data"]] == expected


async def test_guardrails_refuse_with_a_hint(seeded: TestClient) -> None:
    cases = {
        "/v1/metrics/usage?interval=1m&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z":
            "use interval=1h",
        "/v1/metrics/usage?interval=1d&group_by=user&from=2025-01-01T00:00:00Z"
        "&to=2026-02-01T00:00:00Z": "narrow 'from'/'to'",
        "/v1/users?from=2025-01-01T00:00:00Z&to=2026-02-01T00:00:00Z": "narrow 'from'/'to'",
        "/v1/traces?text=weather": "give 'from'",
        "/v1/calls?text=weather&from=2025-01-01T00:00:00Z": "narrow 'from'/'to'",
    }  # fmt: skip
    for url, hint in cases.items():
        response = await seeded.get(url)
        assert response.status == 422, url
        assert hint in (await response.json())["error"]["message"]


async def test_cache_hit_returns_identical_json(seeded: TestClient) -> None:
    url = f"/v1/metrics/usage?interval=1h&group_by=model&{RANGE}"
    first = await seeded.get(url)
    second = await seeded.get(url)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert await first.read() == await second.read()
    # The same range written differently (an offset, a reordered grouping) is the same entry.
    other = f"{url.replace('group_by=model', 'group_by=model&group_by=model')}"
    assert (await seeded.get(other)).headers["X-Cache"] == "hit"


async def test_a_dead_redis_still_answers(database_url: str) -> None:
    from services.api.app import METRICS, create_app

    await seed(database_url)
    app = create_app(api_config(database_url, "redis://127.0.0.1:1/0"))
    async with TestClient(TestServer(app)) as client:
        for url in (f"/v1/metrics/usage?{RANGE}", f"/v1/stats?{RANGE}", "/v1/traces?limit=2"):
            for _ in range(2):
                response = await client.get(url)
                assert response.status == 200, url
        errors = app[METRICS].registry.get_sample_value("api_cache_errors_total")
        assert errors is not None and errors >= 1


# One trace every 7 minutes from 2026-11-20T00:00Z for five hours.
EVERY_7_MINUTES = [[span("default", n, 0, None, BASE_NS + n * 7 * 60 * 10**9)] for n in range(43)]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-11-20T00:00:00Z", "2026-11-20T05:00:00Z"),  # whole hours only
        ("2026-11-20T00:17:00Z", "2026-11-20T04:42:10Z"),  # partial hours at both ends
        ("2026-11-20T01:10:00Z", "2026-11-20T01:50:00Z"),  # inside one hour
        ("2026-11-20T01:10:00Z", "2026-11-20T02:20:00Z"),  # two partial hours, none whole
        ("2026-11-20T02:00:00Z", "2026-11-20T02:14:00.5Z"),  # from a whole hour, to inside it
        ("2026-11-20T02:30:00Z", "2026-11-20T04:00:00Z"),  # to a whole hour
    ],
)
async def test_stats_count_the_traces_started_in_any_range(
    api: TestClient, database_url: str, start: str, end: str
) -> None:
    await write_traces(database_url, EVERY_7_MINUTES)
    stats = await (await api.get(f"/v1/stats?from={start}&to={end}")).json()
    ((traces,),) = rows(
        database_url,
        "SELECT count(*) FROM traces WHERE project_id = 'default'"
        f" AND start_time >= '{start}' AND start_time < '{end}'",
    )
    assert traces > 0
    assert stats["trace_count"] == traces
