"""Usage limits through the API against real PostgreSQL and Redis: leases, hierarchical limits,
429 bodies naming every limit, debt after adjust, overrides, and project confinement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.api.app import create_app
from tests.api.conftest import api_config

ADMIN = {"Authorization": "Bearer operator-key-0123456789abcdef"}


@pytest.fixture
async def api(database_url: str, redis_url: str) -> AsyncIterator[TestClient]:
    config = replace(
        api_config(database_url, redis_url), dev_mode=False, admin_key=ADMIN["Authorization"][7:],
        key_pepper="limits-pepper", key_cache_ttl_seconds=0, rate_limit_requests=0,
        limits_defaults="user:rpm=100,tpm=10000;project:tpm=1000",
    )  # fmt: skip
    async with TestClient(TestServer(create_app(config))) as client:
        yield client


async def project_key(api: TestClient, project: str, scopes: list[str]) -> dict[str, str]:
    await api.post("/v1/projects", json={"project_id": project}, headers=ADMIN)
    made = await api.post(f"/v1/projects/{project}/keys", json={"scopes": scopes}, headers=ADMIN)
    assert made.status == 201
    return {"Authorization": f"Bearer {(await made.json())['secret']}"}


def by_entity(limits: list[dict[str, object]]) -> dict[tuple[object, object], dict[str, object]]:
    return {(item["entity"], item["unit"]): item for item in limits}


async def test_a_user_is_refused_when_its_project_is_exhausted(api: TestClient) -> None:
    app = await project_key(api, "acme", ["ingest", "read"])
    body = {"entity": "user:alice", "resource": "gpt-4o", "consume": {"rpm": 1, "tpm": 800}}
    first = await api.post("/v1/limits/acquire", headers=app, json=body)
    assert first.status == 200
    lease = await first.json()
    assert len(lease["lease_id"]) == 32
    # Bob has all of his own tokens, but the project has 200 of 1000 left.
    refused = await api.post("/v1/limits/acquire", headers=app, json={
        "entity": "user:bob", "resource": "gpt-4o", "consume": {"rpm": 1, "tpm": 300}})  # fmt: skip
    assert refused.status == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    error = (await refused.json())["error"]
    limits = by_entity(error["limits"])
    assert set(limits) == {("user:bob", "rpm"), ("user:bob", "tpm"), ("project", "tpm")}
    assert limits["user:bob", "rpm"]["status"] == "passed"
    assert limits["user:bob", "tpm"]["status"] == "passed"
    project = limits["project", "tpm"]
    assert project["status"] == "exceeded" and 200 <= project["remaining"] < 205
    # The retry-after of the tightest limit: the 100 tokens missing at 1000 per 60 s, 6 s.
    assert error["retry_after_ms"] == project["retry_after_ms"]
    missing_milli = 300_000 - project["remaining_milli"]
    assert abs(error["retry_after_ms"] - missing_milli * 60 / 1000) <= 1
    assert 5_600 <= error["retry_after_ms"] <= 6_000
    assert "project tpm on *" in error["message"]
    # Nothing was taken from Bob's buckets.
    state = await (await api.get("/v1/limits/user:bob", headers=app)).json()
    assert {b["unit"]: b["remaining"] for b in state["buckets"]} == {"rpm": 100, "tpm": 10000}


async def test_adjust_into_debt_delays_the_next_acquire(api: TestClient) -> None:
    app = await project_key(api, "acme", ["ingest", "read"])
    body = {"entity": "user:alice", "consume": {"rpm": 1, "tpm": 100}}
    lease = await (await api.post("/v1/limits/acquire", headers=app, json=body)).json()
    adjusted = await api.post(f"/v1/limits/leases/{lease['lease_id']}/adjust", headers=app,
                              json={"consume": {"tpm": 1500}})  # fmt: skip
    assert adjusted.status == 200 and (await adjusted.json())["buckets"] == 3
    state = await (await api.get("/v1/limits/user:alice?resource=gpt-4o", headers=app)).json()
    project = next(b for b in state["buckets"] if b["entity"] == "project")
    assert project["status"] == "in_debt" and -500 <= project["remaining"] < -495
    refused = await api.post("/v1/limits/acquire", headers=app, json=body)
    assert refused.status == 429
    wait_ms = (await refused.json())["error"]["retry_after_ms"]
    # (debt 500 + cost 100) tokens at 1000 per minute: 36 s.
    assert 35_600 <= wait_ms <= 36_000
    again = await api.post(f"/v1/limits/leases/{lease['lease_id']}/adjust", headers=app,
                           json={"consume": {"tpm": 1}})  # fmt: skip
    assert again.status == 404


async def test_release_returns_the_reservation(api: TestClient) -> None:
    app = await project_key(api, "acme", ["ingest", "read"])
    body = {"entity": "key:batch-job", "consume": {"tpm": 900}}
    lease = await (await api.post("/v1/limits/acquire", headers=app, json=body)).json()
    assert (await api.post("/v1/limits/acquire", headers=app, json=body)).status == 429
    released = await api.post(f"/v1/limits/leases/{lease['lease_id']}/release", headers=app)
    assert released.status == 200
    assert (await api.post("/v1/limits/acquire", headers=app, json=body)).status == 200


async def test_overrides_beat_defaults_and_zero_lifts_a_limit(api: TestClient) -> None:
    app = await project_key(api, "acme", ["ingest", "read"])
    put = await api.post("/v1/projects/acme/limits", headers=ADMIN, json={
        "entity_type": "user", "entity_id": "vip", "unit": "tpm", "limit": 0})  # fmt: skip
    assert put.status == 201
    put = await api.post("/v1/projects/acme/limits", headers=ADMIN, json={
        "entity_type": "user", "resource": "gpt-4o", "unit": "images", "limit": 3,
        "window_seconds": 3600})  # fmt: skip
    assert put.status == 201
    listed = await (await api.get("/v1/projects/acme/limits", headers=ADMIN)).json()
    assert {row["unit"] for row in listed["data"]} == {"tpm", "images"}
    assert {(d["entity_type"], d["unit"]) for d in listed["defaults"]} == {
        ("user", "rpm"), ("user", "tpm"), ("project", "tpm")}  # fmt: skip
    vip = await (await api.get("/v1/limits/user:vip", headers=app)).json()
    assert {(b["resource"], b["unit"]) for b in vip["buckets"]} == {
        ("*", "rpm"), ("gpt-4o", "images")}  # fmt: skip
    body = {"entity": "user:ann", "resource": "gpt-4o", "consume": {"images": 2}}
    assert (await api.post("/v1/limits/acquire", headers=app, json=body)).status == 200
    refused = await api.post("/v1/limits/acquire", headers=app, json=body)
    assert refused.status == 429
    images = by_entity((await refused.json())["error"]["limits"])["user:ann", "images"]
    assert images["status"] == "exceeded" and images["window_seconds"] == 3600


async def test_projects_never_reach_each_others_buckets_or_leases(api: TestClient) -> None:
    acme = await project_key(api, "acme", ["ingest", "read"])
    globex = await project_key(api, "globex", ["ingest", "read"])
    body = {"entity": "user:alice", "consume": {"tpm": 1000}}
    lease = await (await api.post("/v1/limits/acquire", headers=acme, json=body)).json()
    # Globex's alice and project are untouched by acme's.
    assert (await api.post("/v1/limits/acquire", headers=globex, json=body)).status == 200
    for action in ("adjust", "release"):
        response = await api.post(f"/v1/limits/leases/{lease['lease_id']}/{action}",
                                  headers=globex, json={"consume": {"tpm": 0}})  # fmt: skip
        assert response.status == 404, action
    # The lease is still acme's to settle.
    response = await api.post(f"/v1/limits/leases/{lease['lease_id']}/release", headers=acme)
    assert response.status == 200


async def test_bad_requests_name_the_problem(api: TestClient) -> None:
    app = await project_key(api, "acme", ["ingest", "read"])
    reader = await project_key(api, "acme", ["read"])
    cases = (
        ({"entity": "team:x", "consume": {"tpm": 1}}, "entity"),
        ({"entity": "user:a", "consume": {"tpm": -1}}, "tpm"),
        ({"entity": "user:a", "consume": {"tpm": 0.0001}}, "decimals"),
        ({"entity": "user:a", "consume": {"Bad Unit": 1}}, "unit"),
        ({"entity": "user:a"}, "consume"),
    )
    for body, word in cases:
        response = await api.post("/v1/limits/acquire", headers=app, json=body)
        assert response.status == 400, body
        assert word in (await response.json())["error"]["message"], body
    body = {"entity": "user:a", "consume": {"tpm": 1}}
    assert (await api.post("/v1/limits/acquire", headers=reader, json=body)).status == 403
    assert (await api.post("/v1/limits/acquire", headers=ADMIN, json=body)).status == 403
    assert (await api.get("/v1/limits/nobody", headers=app)).status == 400
