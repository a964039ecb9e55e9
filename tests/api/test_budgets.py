"""Budgets against real PostgreSQL and Redis: a crossing shows in GET /v1/budgets and in the
Prometheus gauges, and POSTs the webhook (a real local server) once, even with two API
processes' evaluators running."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import generate_latest

from services.api.app import METRICS, create_app
from services.api.budgets.periods import period_bounds
from shared.span import Cost, LLMCall, Span, Usage
from tests.api.conftest import api_config
from tests.storage.test_writer import write

ADMIN = {"Authorization": "Bearer operator-key-0123456789abcdef"}


def call(number: int, cost: str, model: str = "gpt-4o", user: str = "alice") -> Span:
    now_ns = time.time_ns() - 1_000_000_000
    llm = LLMCall(
        convention="otel_genai", span_type="llm", provider="openai", request_model=model,
        response_model=model, operation="chat", user_id=user,
        usage=Usage(input_tokens=1000, output_tokens=200, source="reported"),
        cost=Cost(total_usd=Decimal(cost), price_source="genai-prices"),
    )  # fmt: skip
    return Span(
        project_id="acme", trace_id=f"{number:032x}", span_id=f"{number:016x}",
        parent_span_id=None, name="chat", kind=3, start_time_unix_nano=now_ns,
        end_time_unix_nano=now_ns + 500_000_000, llm=llm, received_unix_nano=now_ns,
    )  # fmt: skip


@pytest.fixture
async def hook() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/budget", receive)
    async with TestServer(app) as server:
        yield str(server.make_url("/budget")), received


def make_client(database_url: str, redis_url: str) -> TestClient:
    config = replace(
        api_config(database_url, redis_url), dev_mode=False, admin_key=ADMIN["Authorization"][7:],
        key_pepper="budget-pepper", key_cache_ttl_seconds=0, rate_limit_requests=0,
        budget_evaluation_seconds=1,
    )  # fmt: skip
    return TestClient(TestServer(create_app(config)))


async def wait_for(predicate: Any) -> None:
    deadline = time.monotonic() + 15.0
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_a_crossing_is_seen_in_the_api_in_prometheus_and_posted_once(
    database_url: str, redis_url: str, hook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = hook
    async with make_client(database_url, redis_url) as api, \
            make_client(database_url, redis_url) as second:  # fmt: skip
        await api.post("/v1/projects", json={"project_id": "acme"}, headers=ADMIN)
        made = await api.post("/v1/projects/acme/keys", json={"scopes": ["read"]}, headers=ADMIN)
        reader = {"Authorization": f"Bearer {(await made.json())['secret']}"}
        day_budget = {"scope": "project", "period": "day", "limit_usd": "1.00", "webhook_url": url}
        stored = await api.post("/v1/projects/acme/budgets", headers=ADMIN, json=day_budget)
        assert stored.status == 201
        budget_id = (await stored.json())["budget_id"]
        for body in (
            {"scope": "user", "scope_id": "alice", "period": "week", "limit_tokens": 2000},
            {"scope": "model", "scope_id": "gpt-4o-mini", "period": "month", "limit_usd": 5},
        ):
            assert (await api.post("/v1/projects/acme/budgets", headers=ADMIN,
                                   json=body)).status == 201  # fmt: skip
        # 85 % of the day's budget: 50 and 80 are crossed together, posted once as 80.
        await write(database_url, [call(1, "0.60"), call(2, "0.25", user="bob")])
        await wait_for(lambda: len(received) >= 1)
        assert received[0]["threshold_percent"] == 80
        assert received[0]["budget_id"] == budget_id and received[0]["spend_usd"] == "0.85"

        answer = await (await api.get("/v1/budgets", headers=reader)).json()
        states = {item["scope"]: item for item in answer["data"]}
        day = states["project"]
        assert day["spend_usd"] == "0.85" and day["remaining_usd"] == "0.15"
        assert day["used_percent"] == 85.0 and day["spend_tokens"] == 2400
        start, _ = period_bounds("day", datetime.now(UTC))
        assert day["period_start"] == start.isoformat().replace("+00:00", "Z")
        # All 0.85 fell in the last hour (or in less, just after midnight UTC).
        assert Decimal(day["burn_rate_usd_per_hour"]["1h"]) >= Decimal("0.85")
        assert Decimal(day["forecast_usd"]) > Decimal("0.85")
        assert states["user"]["spend_tokens"] == 1200 and states["user"]["used_percent"] == 60.0
        assert states["model"]["spend_usd"] == "0"

        exposition = generate_latest(api.app[METRICS].registry).decode()
        labels = f'budget_id="{budget_id}",period="day",project="acme",scope="project"'
        assert f"llm_budget_spend_usd{{{labels}}} 0.85" in exposition
        assert f"llm_budget_limit_usd{{{labels}}} 1.0" in exposition
        assert f"llm_budget_period_seconds{{{labels}}} 86400.0" in exposition

        # Both processes' evaluators run several more rounds: nothing more is posted.
        await asyncio.sleep(2.5)
        assert len(received) == 1
        await write(database_url, [call(3, "0.30")])
        await wait_for(lambda: len(received) >= 2)
        await asyncio.sleep(2.5)
        assert [item["threshold_percent"] for item in received] == [80, 100]
        assert second.app[METRICS].budget_spend_usd.labels(
            "acme", str(budget_id), "project", "day"
        )._value.get() == pytest.approx(1.15)


async def test_budget_bodies_are_checked(database_url: str, redis_url: str) -> None:
    async with make_client(database_url, redis_url) as api:
        await api.post("/v1/projects", json={"project_id": "acme"}, headers=ADMIN)
        cases = (
            {"scope": "project", "period": "day"},
            {"scope": "user", "period": "day", "limit_usd": 1},
            {"scope": "project", "scope_id": "x", "period": "day", "limit_usd": 1},
            {"scope": "project", "period": "year", "limit_usd": 1},
            {"scope": "project", "period": "day", "limit_usd": 1, "webhook_url": "ftp://x"},
        )
        for body in cases:
            response = await api.post("/v1/projects/acme/budgets", headers=ADMIN, json=body)
            assert response.status == 400, body
