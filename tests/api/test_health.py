"""Health endpoints: liveness, and readiness with each dependency's latency and error."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from tests.api.conftest import api_config


async def test_detailed_health_checks_both_dependencies(api: TestClient) -> None:
    assert (await api.get("/health")).status == 200
    response = await api.get("/health/detailed")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"
    for name in ("database", "redis"):
        assert body["checks"][name]["status"] == "ok"
        assert body["checks"][name]["latency_ms"] >= 0


async def test_detailed_health_reports_a_dead_redis(database_url: str) -> None:
    from services.api.app import create_app

    app = create_app(api_config(database_url, "redis://127.0.0.1:1/0"))
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/health/detailed")
        assert response.status == 503
        body = await response.json()
        assert body["checks"]["database"]["status"] == "ok"
        assert body["checks"]["redis"]["status"] == "error"
        assert "Connection" in body["checks"]["redis"]["error"]
