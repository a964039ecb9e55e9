"""CORS on the HTTP receiver: preflights answered for allowed origins, responses readable by
browser exporters (errors and Retry-After included), nothing when CORS_ORIGINS is unset."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.collector.conftest import CollectorUnderTest, start_collector
from tests.e2e.otlp_load import build_request

APP = "https://app.example"
PREFLIGHT = {
    "Origin": APP,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,authorization",
}


@pytest.fixture
async def cors(redis_url: str, database_url: str) -> AsyncIterator[CollectorUnderTest]:
    running = await start_collector(
        redis_url, database_url, cors_origins=(APP, "http://localhost:3000")
    )
    yield running
    await running.stop()


async def test_preflight_from_an_allowed_origin_names_methods_and_headers(
    cors: CollectorUnderTest,
) -> None:
    for path in ("/v1/traces", "/api/public/otel/v1/traces"):
        response = await cors.http.options(path, headers=PREFLIGHT)
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == APP
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        allowed = response.headers["Access-Control-Allow-Headers"].lower().split(", ")
        assert set(allowed) == {"content-type", "content-encoding", "authorization", "x-api-key"}
        assert response.headers["Vary"] == "Origin"


async def test_preflight_from_another_origin_or_for_another_method_is_refused(
    cors: CollectorUnderTest,
) -> None:
    response = await cors.http.options(
        "/v1/traces", headers={**PREFLIGHT, "Origin": "https://evil.example"}
    )
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    response = await cors.http.options(
        "/v1/traces", headers={**PREFLIGHT, "Access-Control-Request-Method": "DELETE"}
    )
    assert response.status == 403


async def test_responses_and_errors_carry_the_allowed_origin(cors: CollectorUnderTest) -> None:
    headers = {"Origin": APP, "Content-Type": "application/x-protobuf"}
    response = await cors.http.post("/v1/traces", data=build_request(0, 1), headers=headers)
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert response.headers["Access-Control-Expose-Headers"] == "Retry-After"
    response = await cors.http.post("/v1/traces", data=b"", headers=headers)
    assert response.status == 400
    assert response.headers["Access-Control-Allow-Origin"] == APP
    response = await cors.http.get("/v1/nothing-here", headers=headers)
    assert response.status == 404
    assert response.headers["Access-Control-Allow-Origin"] == APP
    response = await cors.http.post(
        "/v1/traces", data=build_request(1, 1), headers={**headers, "Origin": "https://x.example"}
    )
    assert response.status == 200
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_a_wildcard_allows_any_origin(redis_url: str, database_url: str) -> None:
    running = await start_collector(redis_url, database_url, cors_origins=("*",))
    try:
        response = await running.http.options(
            "/v1/traces", headers={**PREFLIGHT, "Origin": "https://any.example"}
        )
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    finally:
        await running.stop()


async def test_without_cors_origins_there_are_no_cors_headers(
    collector: CollectorUnderTest,
) -> None:
    response = await collector.http.options("/v1/traces", headers=PREFLIGHT)
    assert response.status == 405
    assert "Access-Control-Allow-Origin" not in response.headers
