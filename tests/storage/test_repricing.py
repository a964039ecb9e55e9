"""Re-pricing on both storage paths: calls stored with an old price, the price changed, a dry run
reporting the exact change per model, then applied to spans, traces and rollups alike, audited;
and the admin keys it requires."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import genai_prices
import psycopg
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient, TestServer

from services.collector.processors.price import PriceConfig
from services.collector.processors.price import build as build_price
from services.storage.consume import StreamConsumer
from services.storage.housekeeping import Housekeeper
from services.storage.http import build_app
from services.storage.ingest import Ingestor
from services.storage.metrics import StorageMetrics
from shared.apikeys import generate_key
from shared.db import open_pool
from shared.keystore import create_key
from shared.pricing import PriceOverride
from shared.span import LLMCall, Span, Usage
from tests.storage.test_ingest import config
from tests.storage.test_rollups import (
    assert_estimated_equals_raw,
    assert_histograms_equal_raw,
    assert_usage_equals_raw,
    nanos,
    refresh_if_timescale,
    write_batches,
)

ADMIN_KEY = "operator-secret-key"
HOUR = dt.timedelta(hours=1)
NOW = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = (NOW - 5 * HOUR, NOW - HOUR)
MILLION = Decimal(1_000_000)
OLD = {"input": Decimal("1"), "output": Decimal("2")}
NEW = {"input": Decimal("3"), "output": Decimal("5.5")}
# (provider, model) and how the calls are stored: the project's override (to be changed), a
# model without a price (an override for it comes later), genai-prices' model with a cost
# stored under some other price, and one whose stored price is still right.
MODELS = [("acme", "acme-chat"), ("acme", "acme-new"), ("openai", "gpt-4o-mini"),
          ("anthropic", "claude-sonnet-4-5")]  # fmt: skip


def call_span(index: int, project_id: str, start: dt.datetime) -> Span:
    provider, model = MODELS[index % len(MODELS)]
    llm = LLMCall(
        convention="otel_genai", span_type="llm", provider=provider, operation="chat",
        request_model=model, is_counted=index % 7 != 6,
        usage=Usage(input_tokens=1000 + 37 * index, output_tokens=200 + 11 * index,
                    source="reported"),
    )  # fmt: skip
    return Span(
        project_id=project_id, trace_id=f"{index // 3 + 1:032x}", span_id=f"{index + 1:016x}",
        parent_span_id=None, name="chat", kind=3, start_time_unix_nano=nanos(start),
        end_time_unix_nano=nanos(start) + 250_000_000, resource_attributes={"service.name": "app"},
        received_unix_nano=nanos(start), llm=llm,
    )  # fmt: skip


def stored_spans() -> list[Span]:
    """Calls over six hours in two projects, priced as the collector priced them then."""
    old_override = PriceOverride(
        model="acme-chat", input_usd_per_million_tokens=OLD["input"],
        output_usd_per_million_tokens=OLD["output"], version="v1",
    )  # fmt: skip
    price = build_price(PriceConfig(overrides={"default": (old_override,), "p2": (old_override,)}))
    spans = []
    for index in range(240):
        start = NOW - 6 * HOUR + dt.timedelta(seconds=90 * index + 7)
        spans.append(call_span(index, "p2" if index % 5 == 4 else "default", start))
    # A third of them kept by the sample step at rate 1/4.
    priced = [
        replace(s, attributes={"llmobs.sample_weight": 4.0}) if i % 3 == 0 else s
        for i, s in enumerate(price(spans))
    ]
    # gpt-4o-mini calls stored with a cost from another price list: 1 micro-dollar.
    return [
        replace(s, llm=replace(s.llm, cost=replace(s.llm.cost, total_usd=Decimal("0.000001"))))
        if s.llm and s.llm.request_model == "gpt-4o-mini" and s.llm.is_counted
        else s
        for s in priced
    ]


def expected_change(span: Span) -> tuple[Decimal | None, Decimal | None]:
    """(cost stored, cost with the new prices) of a counted call, computed by hand."""
    assert span.llm is not None
    model, usage = span.llm.request_model, span.llm.usage
    tokens_in, tokens_out = Decimal(usage.input_tokens or 0), Decimal(usage.output_tokens or 0)
    when = dt.datetime.fromtimestamp(span.start_time_unix_nano / 1e9, dt.UTC)
    if model == "acme-chat":
        return ((tokens_in * OLD["input"] + tokens_out * OLD["output"]) / MILLION,
                (tokens_in * NEW["input"] + tokens_out * NEW["output"]) / MILLION)  # fmt: skip
    if model == "acme-new":
        return None, (tokens_in * Decimal("0.5") + tokens_out * Decimal("1.25")) / MILLION
    provider = {"openai": "openai", "anthropic": "anthropic"}[span.llm.provider or ""]
    price = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens),
        model_ref=model or "", provider_id=provider, genai_request_timestamp=when,
    ).total_price  # fmt: skip
    return span.llm.cost.total_usd, price


ADD_OVERRIDE = """
INSERT INTO model_price_overrides (project_id, model, input_usd_per_million_tokens,
                                   output_usd_per_million_tokens, version)
VALUES (%s, %s, %s, %s, %s)
"""
OTHER_PROJECT_SPANS = "SELECT * FROM spans WHERE project_id = 'p2' ORDER BY span_id"
TRACE_COSTS = "SELECT trace_id, cost_usd FROM traces WHERE project_id = 'default' ORDER BY 1"
TRACE_COSTS_FROM_SPANS = """
SELECT trace_id, coalesce(sum(cost_usd) FILTER (WHERE llm_is_counted), 0)
FROM spans WHERE project_id = 'default' GROUP BY 1 ORDER BY 1
"""


def fetch(url: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def execute(url: str, statement: str, params: Any = None) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement, params)


@pytest.fixture
async def admin(backend_url: str, redis_url: str) -> AsyncIterator[TestClient]:
    """The storage admin app on either storage path, with LLMOBS_ADMIN_KEY set."""
    settings = replace(config(backend_url, redis_url, "storage-a"), admin_key=ADMIN_KEY)
    client = redis.Redis.from_url(redis_url)
    pool = await open_pool(backend_url, 1, 2)
    consumer = StreamConsumer(client, "s", "g", "c", 1000)
    metrics = StorageMetrics()
    app = build_app(settings, pool, client, Ingestor(settings, consumer, pool, metrics), consumer,
                    Housekeeper(settings, pool, consumer, metrics))  # fmt: skip
    http = TestClient(TestServer(app))
    await http.start_server()
    try:
        yield http
    finally:
        await http.close()
        await pool.close()
        await client.aclose()


def with_key(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def window_body(dry_run: bool, project_id: str = "default") -> dict[str, Any]:
    return {
        "project_id": project_id, "start": WINDOW[0].isoformat(), "end": WINDOW[1].isoformat(),
        "dry_run": dry_run, "reason": "price list update",
    }  # fmt: skip


async def test_repricing_reports_exactly_then_applies_everywhere(
    admin: TestClient, backend_url: str
) -> None:
    url = backend_url
    execute(url, "INSERT INTO projects (project_id, name) VALUES ('p2', 'p2')")
    for project in ("default", "p2"):
        execute(url, ADD_OVERRIDE, (project, "acme-chat", 1, 2, "v1"))
    spans = stored_spans()
    assert await write_batches(url, spans, batch_size=100) == len(spans)
    refresh_if_timescale(url)
    assert_usage_equals_raw(url)
    other_project_before = fetch(url, OTHER_PROJECT_SPANS)
    # The project's price changes, and a price for the unpriced model is added.
    execute(
        url,
        "UPDATE model_price_overrides SET input_usd_per_million_tokens = 3,"
        " output_usd_per_million_tokens = 5.5, version = 'v2' WHERE project_id = 'default'",
    )
    execute(url, ADD_OVERRIDE, ("default", "acme-new", Decimal("0.5"), Decimal("1.25"), "n1"))

    in_window = [
        s for s in spans
        if s.project_id == "default" and s.llm and s.llm.is_counted
        and nanos(WINDOW[0]) <= s.start_time_unix_nano < nanos(WINDOW[1])
    ]  # fmt: skip
    expected: dict[str, dict[str, Any]] = {}
    for span in in_window:
        before, after = expected_change(span)
        entry = expected.setdefault(
            span.llm.request_model,
            {  # type: ignore[union-attr]
                "spans": 0,
                "changed": 0,
                "newly_priced": 0,
                "before": Decimal(0),
                "after": Decimal(0),
            },
        )
        entry["spans"] += 1
        entry["changed"] += before != after
        entry["newly_priced"] += before is None and after is not None
        entry["before"] += before or 0
        entry["after"] += after or 0
    assert expected["acme-chat"]["changed"] > 0 and expected["acme-new"]["newly_priced"] > 0
    assert expected["claude-sonnet-4-5"]["changed"] == 0  # stored at today's price already

    dry = await admin.post("/repricing", json=window_body(True), headers=with_key(ADMIN_KEY))
    assert dry.status == 200, await dry.text()
    report = await dry.json()
    by_model = {m["model"]: m for m in report["models"]}
    assert by_model.keys() == expected.keys()
    for model, want in expected.items():
        got = by_model[model]
        assert (got["spans"], got["spans_changed"], got["newly_priced"]) == (
            want["spans"], want["changed"], want["newly_priced"]), model  # fmt: skip
        assert Decimal(got["cost_before_usd"]) == want["before"], model
        assert Decimal(got["cost_after_usd"]) == want["after"], model
        assert Decimal(got["delta_usd"]) == want["after"] - want["before"], model
    total_delta = sum(w["after"] - w["before"] for w in expected.values())
    assert Decimal(report["delta_usd"]) == total_delta != 0
    assert report["is_dry_run"] and report["requested_by"] == "admin-key"
    assert report["rollups_updated_at"] is None
    cost_sql = "SELECT sum(cost_usd) FROM spans WHERE project_id = 'default' AND llm_is_counted"
    [(stored_before,)] = fetch(url, cost_sql)
    assert Decimal(report["cost_before_usd"]) + _outside_window_cost(url) == stored_before

    applied = await admin.post("/repricing", json=window_body(False), headers=with_key(ADMIN_KEY))
    assert applied.status == 200, await applied.text()
    run = await applied.json()
    assert not run["is_dry_run"] and run["rollups_updated_at"] is not None
    assert Decimal(run["delta_usd"]) == total_delta
    [(stored_after,)] = fetch(url, cost_sql)
    assert stored_after - stored_before == total_delta
    for trace_id, span_id, cost, source, version in fetch(
        url, "SELECT trace_id, span_id, cost_usd, price_source, price_version FROM spans"
        " WHERE project_id = 'default' AND llm_is_counted AND start_time >= %s AND start_time < %s",
        WINDOW,
    ):  # fmt: skip
        span = next(s for s in in_window if s.span_id == span_id and s.trace_id == trace_id)
        assert cost == expected_change(span)[1], span_id
        if span.llm and span.llm.request_model == "acme-chat":
            assert (source, version) == ("project-override", "v2")
    # Traces hold the sum of their calls; the other project is untouched.
    assert fetch(url, TRACE_COSTS) == fetch(url, TRACE_COSTS_FROM_SPANS)
    assert fetch(url, OTHER_PROJECT_SPANS) == other_project_before
    # Every rollup level equals the raw spans again (TimescaleDB: refreshed by the run itself).
    assert_usage_equals_raw(url)
    assert_histograms_equal_raw(url)
    assert_estimated_equals_raw(url)  # sampled calls' estimates re-priced alike

    again = await admin.post("/repricing", json=window_body(False), headers=with_key(ADMIN_KEY))
    assert (await again.json())["spans_changed"] == 0

    listing = await (await admin.get("/repricing?project_id=default",
                                     headers=with_key(ADMIN_KEY))).json()  # fmt: skip
    runs = listing["runs"]
    assert [r["is_dry_run"] for r in runs] == [False, False, True]
    assert runs[1]["run_id"] == run["run_id"] and runs[1]["reason"] == "price list update"
    overrides = runs[1]["price_overrides"]
    assert [(o["model"], o["version"], o["input_usd_per_million_tokens"]) for o in overrides] == [
        ("acme-chat", "v2", "3"), ("acme-new", "n1", "0.5")]  # fmt: skip
    assert runs[1]["genai_prices_version"] == genai_prices.__version__
    one = await admin.get(f"/repricing/{run['run_id']}", headers=with_key(ADMIN_KEY))
    assert (await one.json())["spans_changed"] == run["spans_changed"]


def _outside_window_cost(url: str) -> Decimal:
    [(cost,)] = fetch(
        url, "SELECT coalesce(sum(cost_usd), 0) FROM spans WHERE project_id = 'default'"
        " AND llm_is_counted AND NOT (start_time >= %s AND start_time < %s)", WINDOW,
    )  # fmt: skip
    return Decimal(cost)


async def test_repricing_needs_an_admin_key_of_the_project(
    admin: TestClient, backend_url: str
) -> None:
    execute(backend_url, "INSERT INTO projects (project_id, name) VALUES ('p2', 'p2')")
    keys = {}
    async with await psycopg.AsyncConnection.connect(backend_url, autocommit=True) as conn:
        for name, project, scopes in [("read", "default", ("read",)),
                                      ("other", "p2", ("admin",)),
                                      ("admin", "default", ("admin",))]:  # fmt: skip
            new = generate_key()
            key_id = await create_key(conn, new, project, name, scopes, "")
            keys[name] = (new.secret, key_id)
    body = window_body(True)
    assert (await admin.post("/repricing", json=body)).status == 401
    assert (await admin.post("/repricing", json=body, headers=with_key("lo_wrong"))).status == 401
    refused = await admin.post("/repricing", json=body, headers=with_key(keys["read"][0]))
    assert refused.status == 403
    other = await admin.post("/repricing", json=body, headers=with_key(keys["other"][0]))
    assert other.status == 403
    ok = await admin.post("/repricing", json=body, headers=with_key(keys["admin"][0]))
    assert ok.status == 200
    assert (await ok.json())["requested_by"] == f"key:{keys['admin'][1]}"
    listing = await admin.get("/repricing?project_id=default", headers=with_key(keys["other"][0]))
    assert listing.status == 403
    own = await (await admin.get("/repricing", headers=with_key(keys["other"][0]))).json()
    assert own["runs"] == []  # a project key sees its own project's runs only


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}, "project_id"),
        ({"project_id": "default", "start": "yesterday", "end": "2026-01-02T00:00:00Z"}, "start"),
        ({"project_id": "default", "start": "2026-01-01T00:00:00",
          "end": "2026-01-02T00:00:00Z"}, "offset"),
        ({"project_id": "default", "start": "2026-01-02T00:00:00Z",
          "end": "2026-01-01T00:00:00Z"}, "end must be after start"),
        ({"project_id": "default", "start": "2026-01-01T00:00:00Z",
          "end": "2026-01-02T00:00:00Z", "dry_run": "no"}, "dry_run"),
        ({"project_id": "default", "window": 1}, "unknown field"),
    ],
)  # fmt: skip
async def test_bad_requests_are_refused_with_the_reason(
    admin: TestClient, body: dict[str, Any], message: str
) -> None:
    response = await admin.post("/repricing", json=body, headers=with_key(ADMIN_KEY))
    assert response.status == 400
    assert message in (await response.json())["error"]


async def test_unknown_project_is_not_found(admin: TestClient) -> None:
    response = await admin.post(
        "/repricing", json=window_body(True, "nope"), headers=with_key(ADMIN_KEY)
    )
    assert response.status == 404
