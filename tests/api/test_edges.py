"""What every endpoint shares: validation, auth refusals, rate limits, CORS, docs, metrics."""

from __future__ import annotations

from dataclasses import replace

from aiohttp.test_utils import TestClient, TestServer

from services.api.app import METRICS, create_app
from services.api.routes import ENDPOINTS
from tests.api.conftest import api_config


async def test_validation_errors_name_the_parameter(api: TestClient) -> None:
    cases = {
        "/v1/traces?from=yesterday": "'from' must be an ISO-8601 date-time",
        "/v1/traces?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z": "'to' must be later",
        "/v1/traces?sort=price": "'sort' must be one of time, duration, cost",
        "/v1/traces?has_error=maybe": "'has_error' must be true or false",
        "/v1/calls?min_cost_usd=nan": "'min_cost_usd' must be a finite number",
        "/v1/calls?min_tokens=-1": "'min_tokens' must be between 0",
        "/v1/calls/xyz": "'span_id' must be 16 hex digits",
        "/v1/metrics/usage?interval=5m": "'interval' must be one of 1m, 1h, 1d",
        "/v1/metrics/usage?group_by=colour": "'group_by' must be one of",
        "/v1/traces?limit=1&limit=2": "'limit' must be given once",
        "/v1/traces?service=a%00b": "'service' must not contain NUL",
        "/v1/traces?from=1900-01-01T00:00:00Z": "'from' must be between 1970 and 2262",
        "/v1/traces?sort=cost&cursor=WyJ0aW1lIiwgMSwgIngiXQ": "'cursor'",
    }
    for url, words in cases.items():
        response = await api.get(url)
        assert response.status == 400, url
        assert words in (await response.json())["error"]["message"], url


async def test_reads_need_a_key_outside_dev_mode(database_url: str, redis_url: str) -> None:
    config = replace(api_config(database_url, redis_url), dev_mode=False)
    async with TestClient(TestServer(create_app(config))) as client:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Token x"}):
            response = await client.get("/v1/traces", headers=headers)
            assert response.status == 401, headers
            assert "WWW-Authenticate" in response.headers
        assert (await client.get("/health")).status == 200
        assert (await client.get("/openapi.json")).status == 200


async def test_rate_limit_answers_429_with_headers(database_url: str, redis_url: str) -> None:
    config = replace(api_config(database_url, redis_url), rate_limit_requests=3,
                     rate_limit_window=60)  # fmt: skip
    app = create_app(config)
    async with TestClient(TestServer(app)) as client:
        remaining = []
        for _ in range(3):
            response = await client.get("/v1/traces")
            assert response.status == 200
            assert response.headers["RateLimit-Limit"] == "3"
            assert response.headers["RateLimit-Policy"] == "3;w=60"
            remaining.append(int(response.headers["RateLimit-Remaining"]))
        assert remaining == [2, 1, 0]
        refused = await client.get("/v1/traces")
        assert refused.status == 429
        assert int(refused.headers["Retry-After"]) in range(1, 21)
        assert refused.headers["RateLimit-Remaining"] == "0"
        assert "rate limit" in (await refused.json())["error"]["message"]
        assert app[METRICS].registry.get_sample_value("api_rate_limited_total") == 1


async def test_cors_preflight_and_exposed_headers(database_url: str, redis_url: str) -> None:
    config = replace(api_config(database_url, redis_url), cors_origins=("https://dash.example",))
    async with TestClient(TestServer(create_app(config))) as client:
        preflight = await client.options("/v1/traces", headers={
            "Origin": "https://dash.example", "Access-Control-Request-Method": "GET",
        })  # fmt: skip
        assert preflight.status == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://dash.example"
        response = await client.get("/v1/stats", headers={"Origin": "https://dash.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "https://dash.example"
        assert "X-Cache" in response.headers["Access-Control-Expose-Headers"]
        other = await client.get("/v1/stats", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
        refused = await client.options("/v1/traces", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "GET",
        })  # fmt: skip
        assert refused.status == 403


async def test_openapi_is_generated_from_the_endpoint_specs(api: TestClient) -> None:
    document = await (await api.get("/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    for endpoint in ENDPOINTS:
        operation = document["paths"][endpoint.path][endpoint.method.lower()]
        assert operation["operationId"] == endpoint.operation_id
        assert [p["name"] for p in operation["parameters"]] == [p.name for p in endpoint.params]
    traces = document["paths"]["/v1/traces"]["get"]
    sort = next(p for p in traces["parameters"] if p["name"] == "sort")
    assert sort["schema"]["enum"] == ["time", "duration", "cost"]
    page = await api.get("/docs")
    assert page.status == 200 and page.content_type == "text/html"
    html = await page.text()
    assert (
        "/v1/metrics/usage" in html
        and "<script" not in html
        and "http" not in html.split("<body>", 1)[1].replace("/openapi.json", "")
    )


async def test_metrics_count_routes_cache_and_errors(api: TestClient) -> None:
    await api.get("/v1/stats")
    await api.get("/v1/stats")
    await api.get("/v1/traces/zz")
    registry = api.server.app[METRICS].registry
    assert registry.get_sample_value("api_cache_requests_total", {"result": "hit"}) == 1
    assert registry.get_sample_value("api_cache_requests_total", {"result": "miss"}) == 1
    assert (
        registry.get_sample_value(
            "api_requests_total", {"route": "/v1/traces/{trace_id}", "status": "400"}
        )
        == 1
    )
    assert (
        registry.get_sample_value("api_request_duration_seconds_count", {"route": "/v1/stats"}) == 2
    )


async def test_unknown_routes_answer_json(api: TestClient) -> None:
    response = await api.get("/v1/nothing-here")
    assert response.status == 404
    assert (await response.json())["error"]["status"] == 404
    wrong = await api.post("/v1/traces")
    assert wrong.status == 405 and "Allow" in wrong.headers
