"""Projects, keys and price overrides through the API: the admin key, project admin keys,
secrets shown once and stored hashed, revocation, and prices the collector can read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal

import psycopg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.api.app import create_app
from services.collector.processors.price_override import PriceOverride
from shared.apikeys import hash_key
from tests.api.conftest import api_config

ADMIN = {"Authorization": "Bearer operator-key-0123456789abcdef"}
PEPPER = "projects-pepper"


@pytest.fixture
async def api(database_url: str, redis_url: str) -> AsyncIterator[TestClient]:
    config = replace(
        api_config(database_url, redis_url), dev_mode=False, admin_key=ADMIN["Authorization"][7:],
        key_pepper=PEPPER, key_cache_ttl_seconds=0, rate_limit_requests=0,
    )  # fmt: skip
    async with TestClient(TestServer(create_app(config))) as client:
        yield client


async def test_project_and_key_lifecycle(api: TestClient, database_url: str) -> None:
    created = await api.post("/v1/projects", json={"project_id": "acme", "name": "Acme"},
                             headers=ADMIN)  # fmt: skip
    assert created.status == 201 and (await created.json())["name"] == "Acme"
    again = await api.post("/v1/projects", json={"project_id": "acme"}, headers=ADMIN)
    assert again.status == 409

    made = await api.post("/v1/projects/acme/keys", json={"name": "ci", "scopes": ["read"]},
                          headers=ADMIN)  # fmt: skip
    assert made.status == 201
    key = await made.json()
    assert key["secret"].startswith("lo_") and key["scopes"] == ["read"]
    with psycopg.connect(database_url) as conn:
        (stored,) = conn.execute("SELECT key_hash FROM api_keys WHERE key_id = %s",
                                 (key["key_id"],)).fetchone()  # fmt: skip
    assert bytes(stored) == hash_key(key["secret"], PEPPER)

    reader = {"Authorization": f"Bearer {key['secret']}"}
    assert (await api.get("/v1/traces", headers=reader)).status == 200
    listed = await (await api.get("/v1/projects/acme/keys", headers=ADMIN)).json()
    assert [k["key_id"] for k in listed["data"]] == [key["key_id"]]
    assert "secret" not in listed["data"][0] and "key_hash" not in listed["data"][0]

    revoked = await api.delete(f"/v1/projects/acme/keys/{key['key_id']}", headers=ADMIN)
    assert revoked.status == 200
    assert (await api.get("/v1/traces", headers=reader)).status == 401
    missing = await api.delete(
        "/v1/projects/acme/keys/00000000-0000-0000-0000-000000000000", headers=ADMIN
    )
    assert missing.status == 404


async def test_project_admin_keys_manage_only_their_project(api: TestClient) -> None:
    for project in ("acme", "globex"):
        await api.post("/v1/projects", json={"project_id": project}, headers=ADMIN)
    acme_admin = await (await api.post("/v1/projects/acme/keys", json={"scopes": ["admin"]},
                                       headers=ADMIN)).json()  # fmt: skip
    globex_key = await (await api.post("/v1/projects/globex/keys", json={},
                                       headers=ADMIN)).json()  # fmt: skip
    headers = {"Authorization": f"Bearer {acme_admin['secret']}"}
    assert (await api.post("/v1/projects/acme/keys", json={}, headers=headers)).status == 201
    for method, path in (
        ("GET", "/v1/projects/globex/keys"), ("POST", "/v1/projects/globex/keys"),
        ("DELETE", f"/v1/projects/globex/keys/{globex_key['key_id']}"),
        ("GET", "/v1/projects/globex/prices"), ("DELETE", "/v1/projects/globex/prices/1"),
        ("DELETE", f"/v1/projects/acme/keys/{globex_key['key_id']}"),
    ):  # fmt: skip
        response = await api.request(method, path, headers=headers, json={})
        assert response.status == 404, (method, path, response.status)
    assert (await api.post("/v1/projects", json={"project_id": "x"}, headers=headers)).status \
        == 403  # fmt: skip
    assert (await api.get("/v1/traces", headers=headers)).status == 403


async def test_langfuse_pair_reads_with_basic_auth(api: TestClient) -> None:
    await api.post("/v1/projects", json={"project_id": "acme"}, headers=ADMIN)
    pair = await (await api.post("/v1/projects/acme/keys", json={"langfuse": True},
                                 headers=ADMIN)).json()  # fmt: skip
    assert pair["public_key"].startswith("pk-lf-") and pair["secret_key"].startswith("sk-lf-")
    import base64

    basic = base64.b64encode(f"{pair['public_key']}:{pair['secret_key']}".encode()).decode()
    response = await api.get("/api/public/traces", headers={"Authorization": f"Basic {basic}"})
    assert response.status == 200
    assert (await response.json())["meta"]["totalItems"] == 0


async def test_price_overrides(api: TestClient, database_url: str) -> None:
    await api.post("/v1/projects", json={"project_id": "acme"}, headers=ADMIN)
    entry = {
        "model": "ft:gpt-4o-mini:acme.*", "match": "regex", "provider": "openai",
        "input_usd_per_million_tokens": "0.3", "output_usd_per_million_tokens": 1.2,
        "cache_read_usd_per_million_tokens": "0.15", "version": "acme-2026-11",
    }  # fmt: skip
    created = await api.post("/v1/projects/acme/prices", json=entry, headers=ADMIN)
    assert created.status == 201
    body = await created.json()
    assert body["input_usd_per_million_tokens"] == "0.3"
    assert body["output_usd_per_million_tokens"] == "1.2"
    assert body["cache_write_usd_per_million_tokens"] is None
    listed = await (await api.get("/v1/projects/acme/prices", headers=ADMIN)).json()
    assert [p["override_id"] for p in listed["data"]] == [body["override_id"]]
    # The collector's override entries parse what the table holds.
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT model, match, provider, input_usd_per_million_tokens, "
            "output_usd_per_million_tokens, cache_read_usd_per_million_tokens, "
            "cache_write_usd_per_million_tokens, version FROM model_price_overrides"
        ).fetchone()
    assert row is not None
    override = PriceOverride(
        model=row[0], match=row[1], provider=row[2], input_usd_per_million_tokens=row[3],
        output_usd_per_million_tokens=row[4], cache_read_usd_per_million_tokens=row[5],
        cache_write_usd_per_million_tokens=row[6], version=row[7],
    )  # fmt: skip
    assert override.input_usd_per_million_tokens == Decimal("0.3")
    for bad, words in (
        ({**entry, "match": "regex", "model": "("}, "not a valid regular expression"),
        ({**entry, "input_usd_per_million_tokens": "-1"}, "non-negative"),
        ({**entry, "colour": "red"}, "unknown field"),
        ({k: v for k, v in entry.items() if k != "version"}, "'version' is required"),
        ({**entry, "match": "glob"}, "'match' must be one of"),
    ):
        response = await api.post("/v1/projects/acme/prices", json=bad, headers=ADMIN)
        assert response.status == 400, bad
        assert words in (await response.json())["error"]["message"]
    deleted = await api.delete(f"/v1/projects/acme/prices/{body['override_id']}", headers=ADMIN)
    assert deleted.status == 200
    again = await api.delete(f"/v1/projects/acme/prices/{body['override_id']}", headers=ADMIN)
    assert again.status == 404
