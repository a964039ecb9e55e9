"""Langfuse-compatible reads: the documented shapes, its parameters, and the numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.api.direct import rows
from tests.api.seed import seed

EXAMPLES = json.loads((Path(__file__).parent / "langfuse_examples.json").read_text())
# Maps of any keys in Langfuse's definitions (map<string, ...>): only their type is compared.
FREE_MAPS = ("usageDetails", "costDetails", "metadata", "modelParameters", "input", "output")
RANGE = "fromTimestamp=2026-11-20T00:00:00Z&toTimestamp=2026-11-23T00:00:00Z"


def assert_shape(example: Any, found: Any, path: str = "$") -> None:
    """Every key of the example is present, with the same JSON type (or null: optional)."""
    if found is None and path != "$":
        return
    if isinstance(example, dict):
        assert isinstance(found, dict), path
        if path.rsplit(".", 1)[-1] in FREE_MAPS:
            return
        for key, value in example.items():
            assert key in found, f"{path}.{key} is missing"
            assert_shape(value, found[key], f"{path}.{key}")
    elif isinstance(example, list):
        assert isinstance(found, list), path
        for item in found[:3]:
            if example:
                assert_shape(example[0], item, f"{path}[]")
    elif example is not None:
        kinds = (int, float) if isinstance(example, int | float) else type(example)
        is_same_kind = isinstance(found, bool) == isinstance(example, bool)
        assert isinstance(found, kinds) and is_same_kind, f"{path}: {found!r} vs {example!r}"


@pytest.fixture
async def seeded(api: TestClient, database_url: str) -> TestClient:
    await seed(database_url)
    return api


async def get(api: TestClient, url: str) -> Any:
    response = await api.get(url)
    assert response.status == 200, (url, await response.text())
    return await response.json()


async def test_shapes_match_the_documented_examples(seeded: TestClient) -> None:
    traces = await get(seeded, f"/api/public/traces?{RANGE}&limit=5")
    assert_shape(EXAMPLES["traces"], traces)
    trace_id = traces["data"][0]["id"]
    assert_shape(EXAMPLES["trace"], await get(seeded, f"/api/public/traces/{trace_id}"))
    observations = await get(seeded, f"/api/public/observations?{RANGE}&type=GENERATION")
    assert_shape(EXAMPLES["observations"], observations)
    assert_shape(EXAMPLES["sessions"], await get(seeded, f"/api/public/sessions?{RANGE}"))
    assert_shape(EXAMPLES["daily"], await get(seeded, f"/api/public/metrics/daily?{RANGE}"))


async def test_trace_list_parameters_and_paging(seeded: TestClient, database_url: str) -> None:
    everything = await get(seeded, f"/api/public/traces?{RANGE}&limit=7&orderBy=timestamp.asc")
    meta = everything["meta"]
    (count,) = rows(database_url, "SELECT count(*) FROM traces WHERE project_id = 'default'")[0]
    assert (meta["totalItems"], meta["totalPages"]) == (count, -(-count // 7))
    seen = []
    for page in range(1, meta["totalPages"] + 1):
        body = await get(seeded, f"/api/public/traces?{RANGE}&limit=7&page={page}"
                         "&orderBy=timestamp.asc")  # fmt: skip
        seen += [t["id"] for t in body["data"]]
    assert len(seen) == len(set(seen)) == count
    stamps = [t["timestamp"] for t in everything["data"]]
    assert stamps == sorted(stamps)
    for query, sql in {
        "userId=default-u1": "user_id = 'default-u1'",
        "sessionId=default-s3": "session_id = 'default-s3'",
        "tags=vip": "'vip' = ANY (tags)",
        "environment=staging": "resource_attributes ->> 'deployment.environment.name' = "
        "'staging' AND parent_span_id IS NULL",
    }.items():
        body = await get(seeded, f"/api/public/traces?{RANGE}&limit=100&{query}")
        expected = rows(
            database_url, f"SELECT DISTINCT trace_id FROM spans WHERE project_id = 'default' "
            f"AND {sql}",
        )  # fmt: skip
        assert {t["id"] for t in body["data"]} == {row[0] for row in expected}, query
    bad = await seeded.get("/api/public/traces?orderBy=cost.up")
    assert bad.status == 400 and "orderBy" in (await bad.json())["error"]["message"]


async def test_daily_metrics_match_direct_sql(seeded: TestClient, database_url: str) -> None:
    body = await get(seeded, f"/api/public/metrics/daily?{RANGE}")
    expected = rows(
        database_url,
        "SELECT (start_time AT TIME ZONE 'UTC')::date::text, request_model, count(*), "
        "count(DISTINCT trace_id), sum(input_tokens) FROM spans WHERE project_id = 'default' "
        "AND llm_is_counted GROUP BY 1, 2 ORDER BY 1 DESC, 2",
    )
    found = [
        (day["date"], u["model"], u["countObservations"], u["countTraces"], u["inputUsage"])
        for day in body["data"]
        for u in day["usage"]
    ]
    assert found == expected
    dates = [day["date"] for day in body["data"]]
    assert dates == sorted(dates, reverse=True)


async def test_observations_of_a_trace(seeded: TestClient, database_url: str) -> None:
    trace_id = rows(database_url, "SELECT trace_id FROM traces WHERE project_id = 'default' "
                    "ORDER BY span_count DESC LIMIT 1")[0][0]  # fmt: skip
    body = await get(seeded, f"/api/public/observations?traceId={trace_id}")
    (count,) = rows(database_url, f"SELECT count(*) FROM spans WHERE trace_id = '{trace_id}'")[0]
    assert body["meta"]["totalItems"] == count == len(body["data"])
    generations = [o for o in body["data"] if o["type"] == "GENERATION"]
    assert generations and all(o["parentObservationId"] for o in generations)
