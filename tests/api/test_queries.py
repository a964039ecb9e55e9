"""Every list endpoint and filter against a seeded database, compared with direct SQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient

from tests.api.direct import ENV, RANGE, ids, pages, rows
from tests.api.seed import seed

P = "project_id = 'default'"
CALLS = f"SELECT span_id FROM spans WHERE {P} AND llm_is_counted"
TRACES_OF = f"SELECT DISTINCT trace_id FROM spans WHERE {P}"
BY_TRACE = f"SELECT trace_id FROM spans WHERE {P} GROUP BY trace_id HAVING"
TRACE_COST = "coalesce(sum(cost_usd) FILTER (WHERE llm_is_counted), 0)"
TRACE_TOKENS = "coalesce(sum(input_tokens + output_tokens) FILTER (WHERE llm_is_counted), 0)"
TRACE_CASES = {
    "service=worker": f"{TRACES_OF} AND parent_span_id IS NULL AND service_name = 'worker'",
    "environment=prod": f"{TRACES_OF} AND {ENV} = 'prod'",
    "provider=anthropic": f"{TRACES_OF} AND provider = 'anthropic'",
    "model=gpt-4o": f"{TRACES_OF} AND (request_model = 'gpt-4o' OR response_model = 'gpt-4o')",
    "operation=embeddings": f"{TRACES_OF} AND operation = 'embeddings'",
    "session=default-s1": f"{TRACES_OF} AND session_id = 'default-s1'",
    "user=default-u2": f"{TRACES_OF} AND user_id = 'default-u2'",
    "tags=beta&tags=eu": f"SELECT trace_id FROM spans, unnest(tags) tag WHERE {P} "
    "GROUP BY trace_id HAVING array_agg(tag) @> ARRAY['beta', 'eu']",
    "tags_any=vip&tags_any=mobile": f"{TRACES_OF} AND tags && ARRAY['vip', 'mobile']",
    "has_error=true": f"{TRACES_OF} AND status_code = 2",
    "has_error=false": f"{BY_TRACE} bool_and(status_code <> 2)",
    "min_duration_ms=4000": f"{BY_TRACE} "
    "extract(epoch FROM max(end_time) - min(start_time)) * 1000 >= 4000",
    "max_duration_ms=2500": f"{BY_TRACE} "
    "extract(epoch FROM max(end_time) - min(start_time)) * 1000 <= 2500",
    "min_cost_usd=0.001&max_cost_usd=0.01": f"{BY_TRACE} {TRACE_COST} BETWEEN 0.001 AND 0.01",
    "min_tokens=4000": f"{BY_TRACE} {TRACE_TOKENS} >= 4000",
    "max_tokens=2000": f"{BY_TRACE} {TRACE_TOKENS} <= 2000",
    "name=REQUEST%201": f"{TRACES_OF} AND parent_span_id IS NULL AND name ILIKE '%request 1%'",
    "text=WEATHER&from=2026-11-19T00:00:00Z": f"{TRACES_OF} AND input_messages::text "
    "ILIKE '%weather%'",
    "from=2026-11-21T00:00:00Z&to=2026-11-21T12:00:00Z": f"{BY_TRACE} "
    "min(start_time) >= '2026-11-21T00:00:00Z' AND min(start_time) < '2026-11-21T12:00:00Z'",
}
CALL_CASES = {
    "service=worker": f"{CALLS} AND service_name = 'worker'",
    "environment=staging": f"{CALLS} AND {ENV} = 'staging'",
    "provider=openai": f"{CALLS} AND provider = 'openai'",
    "model=claude-3-5-sonnet": f"{CALLS} AND request_model = 'claude-3-5-sonnet'",
    "operation=chat": f"{CALLS} AND operation = 'chat'",
    "session=default-s2": f"{CALLS} AND session_id = 'default-s2'",
    "user=default-u1": f"{CALLS} AND user_id = 'default-u1'",
    "tags=vip": f"{CALLS} AND tags @> ARRAY['vip']",
    "tags_any=eu&tags_any=beta": f"{CALLS} AND tags && ARRAY['eu', 'beta']",
    "has_error=true": f"{CALLS} AND (is_error OR status_code = 2)",
    "has_error=false": f"{CALLS} AND NOT (is_error OR status_code = 2)",
    "min_duration_ms=1000&max_duration_ms=1500": f"{CALLS} AND duration_ms BETWEEN 1000 AND 1500",
    "min_cost_usd=0.002": f"{CALLS} AND cost_usd >= 0.002",
    "max_tokens=1000": f"{CALLS} AND input_tokens + output_tokens <= 1000",
    "name=MINI": f"{CALLS} AND name ILIKE '%mini%'",
    "text=poem&from=2026-11-19T00:00:00Z&to=2026-11-25T00:00:00Z": f"{CALLS} AND "
    "input_messages::text ILIKE '%poem%'",
    "from=2026-11-20T12:00:00Z&to=2026-11-21T00:00:00Z": f"{CALLS} AND start_time >= "
    "'2026-11-20T12:00:00Z' AND start_time < '2026-11-21T00:00:00Z'",
    "provider=openai&has_error=true&environment=prod": f"{CALLS} AND provider = 'openai' "
    f"AND (is_error OR status_code = 2) AND {ENV} = 'prod'",
}


@pytest.fixture
async def seeded(api: TestClient, database_url: str) -> TestClient:
    await seed(database_url)
    return api


async def test_every_trace_filter_matches_direct_sql(seeded: TestClient, database_url: str) -> None:
    for query, expected_sql in TRACE_CASES.items():
        found = [t["trace_id"] for t in await pages(seeded, f"/v1/traces?limit=7&{query}")]
        assert len(found) == len(set(found)), query
        expected = ids(database_url, expected_sql)
        assert expected, f"the seed leaves {query} empty: the case tests nothing"
        assert set(found) == expected, query


async def test_trace_filters_combine(seeded: TestClient, database_url: str) -> None:
    found = await pages(seeded, "/v1/traces?provider=openai&has_error=true&tags_any=eu")
    expected = (
        ids(database_url, TRACE_CASES["has_error=true"])
        & ids(database_url, f"{TRACES_OF} AND provider = 'openai'")
        & ids(database_url, f"{TRACES_OF} AND tags && ARRAY['eu']")
    )
    assert {t["trace_id"] for t in found} == expected and expected


@pytest.mark.parametrize(
    ("sort", "order", "expression"),
    [
        ("time", "desc", "min(start_time) DESC"),
        ("duration", "asc", "max(end_time) - min(start_time) ASC"),
        ("cost", "desc", f"{TRACE_COST} DESC"),
    ],
)
async def test_traces_sort_and_page(
    seeded: TestClient, database_url: str, sort: str, order: str, expression: str
) -> None:
    found = await pages(seeded, f"/v1/traces?limit=4&sort={sort}&order={order}")
    expected = rows(
        database_url,
        f"SELECT trace_id FROM spans WHERE {P} GROUP BY trace_id "
        f"ORDER BY {expression}, trace_id {order.upper()}",
    )
    assert [t["trace_id"] for t in found] == [row[0] for row in expected]


async def test_trace_summaries_match_their_spans(seeded: TestClient, database_url: str) -> None:
    found = {t["trace_id"]: t for t in await pages(seeded, "/v1/traces?limit=1000")}
    for trace_id, spans, calls, cost, tokens in rows(
        database_url,
        f"SELECT trace_id, count(*), count(*) FILTER (WHERE llm_is_counted), {TRACE_COST}, "
        f"{TRACE_TOKENS} FROM spans WHERE {P} GROUP BY trace_id",
    ):
        item = found[trace_id]
        assert (item["span_count"], item["llm_call_count"]) == (spans, calls)
        assert Decimal(item["cost_usd"]) == cost
        assert item["input_tokens"] + item["output_tokens"] == tokens


async def test_every_call_filter_matches_direct_sql(seeded: TestClient, database_url: str) -> None:
    for query, expected_sql in CALL_CASES.items():
        found = [c["span_id"] for c in await pages(seeded, f"/v1/calls?limit=9&{query}")]
        assert len(found) == len(set(found)), query
        expected = ids(database_url, expected_sql)
        assert expected, f"the seed leaves {query} empty: the case tests nothing"
        assert set(found) == expected, query


async def test_calls_sort_by_cost_and_one_call(seeded: TestClient, database_url: str) -> None:
    found = await pages(seeded, "/v1/calls?limit=5&sort=cost&order=desc")
    expected = rows(
        database_url,
        f"SELECT span_id FROM spans WHERE {P} AND llm_is_counted "
        "ORDER BY coalesce(cost_usd, 0) DESC, trace_id DESC, span_id DESC",
    )
    assert [c["span_id"] for c in found] == [row[0] for row in expected]
    first = found[0]
    response = await seeded.get(f"/v1/calls/{first['span_id']}")
    assert response.status == 200
    body = await response.json()
    assert body["llm"]["cost"]["total_usd"] == first["cost_usd"]
    assert body["llm"]["input_messages"][0]["role"] == "user"


async def test_sessions_and_users_match_direct_sql(seeded: TestClient, database_url: str) -> None:
    sessions = {s["session_id"]: s for s in await pages(seeded, f"/v1/sessions?limit=2&{RANGE}")}
    expected = rows(
        database_url,
        f"SELECT session_id, count(DISTINCT trace_id), {TRACE_COST}, max(end_time) FROM spans "
        f"WHERE {P} AND session_id IS NOT NULL GROUP BY session_id",
    )
    assert sessions.keys() == {row[0] for row in expected}
    for session_id, traces, cost, _ in expected:
        assert sessions[session_id]["trace_count"] == traces
        assert Decimal(sessions[session_id]["cost_usd"]) == cost
    detail = await (await seeded.get(f"/v1/sessions/{expected[0][0]}")).json()
    assert detail["totals"]["trace_count"] == expected[0][1]
    starts = [t["start_time"] for t in detail["traces"]]
    assert starts == sorted(starts)

    users = {u["user_id"]: u for u in await pages(seeded, f"/v1/users?limit=3&{RANGE}")}
    expected = rows(
        database_url,
        f"SELECT user_id, count(DISTINCT trace_id), {TRACE_COST}, "
        "count(*) FILTER (WHERE status_code = 2) FROM spans "
        f"WHERE {P} AND user_id IS NOT NULL GROUP BY user_id",
    )
    assert users.keys() == {row[0] for row in expected}
    for user_id, traces, cost, errors in expected:
        assert (users[user_id]["trace_count"], users[user_id]["error_count"]) == (traces, errors)
        assert Decimal(users[user_id]["cost_usd"]) == cost
        one = await (await seeded.get(f"/v1/users/{user_id}")).json()
        assert one["trace_count"] == traces and one["last_seen"] == users[user_id]["last_seen"]


async def test_missing_things_are_404(seeded: TestClient) -> None:
    for url in (
        "/v1/sessions/nope", "/v1/users/nope", f"/v1/calls/{'f' * 16}", f"/v1/traces/{'f' * 32}",
    ):  # fmt: skip
        response = await seeded.get(url)
        assert response.status == 404, url
        assert (await response.json())["error"]["status"] == 404
