"""Tenant isolation: with one project's key, nothing of another project is reachable — no
endpoint, filter, cursor, id or cache entry; what belongs to the other project is a 404."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import psycopg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.api.app import create_app
from services.api.routes import ENDPOINTS
from shared.apikeys import generate_key, generate_langfuse_pair
from shared.keystore import create_key
from tests.api.conftest import api_config
from tests.api.direct import RANGE
from tests.api.seed import seed

ADMIN_KEY = "isolation-admin-key-0123456789abcdef"
PEPPER = "isolation-pepper"
# Ids of the project "other" in the seed: session/user ids and names carry its name, trace ids
# start at 1001 (hex 3e9).
OTHER_TRACE = f"{1001:032x}"
OTHER_SPAN = f"{10010 + 1:016x}"
PATH_VALUES = {
    "trace_id": OTHER_TRACE, "traceId": OTHER_TRACE, "span_id": OTHER_SPAN,
    "session_id": "other-s1", "sessionId": "other-s1", "user_id": "other-u1",
    "project_id": "other", "key_id": "00000000-0000-0000-0000-000000000000",
    "override_id": "1",
}  # fmt: skip


@dataclass
class Keys:
    """Bearer headers for each project and purpose."""

    default_read: dict[str, str]
    other_read: dict[str, str]
    default_admin: dict[str, str]
    default_ingest: dict[str, str]
    default_basic: dict[str, str]
    other_public: str


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def make_keys(database_url: str) -> Keys:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO projects (project_id, name) VALUES ('other', 'Other') "
            "ON CONFLICT DO NOTHING"
        )
        secrets: dict[str, str] = {}
        for label, project, scopes in (
            ("default_read", "default", ("read",)), ("other_read", "other", ("read",)),
            ("default_admin", "default", ("admin",)), ("default_ingest", "default", ("ingest",)),
        ):  # fmt: skip
            key = generate_key()
            await create_key(conn, key, project, label, scopes, PEPPER)
            secrets[label] = key.secret
        pair = generate_langfuse_pair()
        await create_key(conn, pair, "default", "lf", ("read",), PEPPER)
        other_pair = generate_langfuse_pair()
        await create_key(conn, other_pair, "other", "lf", ("read",), PEPPER)
    basic = base64.b64encode(f"{pair.display_id}:{pair.secret}".encode()).decode()
    return Keys(
        bearer(secrets["default_read"]), bearer(secrets["other_read"]),
        bearer(secrets["default_admin"]), bearer(secrets["default_ingest"]),
        {"Authorization": f"Basic {basic}"}, other_pair.display_id,
    )  # fmt: skip


@pytest.fixture
async def tenants(database_url: str, redis_url: str) -> AsyncIterator[tuple[TestClient, Keys]]:
    await seed(database_url)
    keys = await make_keys(database_url)
    config = replace(
        api_config(database_url, redis_url), dev_mode=False, admin_key=ADMIN_KEY,
        key_pepper=PEPPER, rate_limit_requests=0,
    )  # fmt: skip
    async with TestClient(TestServer(create_app(config))) as client:
        yield client, keys


def url_of(path: str, extra: str = "") -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    return (
        f"{path}?{RANGE}&fromTimestamp=2026-11-20T00:00:00Z&toTimestamp=2026-11-23T00:00:00Z"
        f"&fromStartTime=2026-11-20T00:00:00Z&toStartTime=2026-11-23T00:00:00Z{extra}"
    )


async def test_no_endpoint_shows_another_projects_data(tenants: tuple[TestClient, Keys]) -> None:
    client, keys = tenants
    for headers in (keys.default_read, keys.default_basic, keys.default_admin):
        for endpoint in ENDPOINTS:
            if endpoint.method != "GET":
                continue
            response = await client.get(url_of(endpoint.path), headers=headers)
            text = await response.text()
            if response.status == 200:
                assert "other" not in text and OTHER_TRACE not in text, (endpoint.path, text[:300])
            if "{" in endpoint.path:
                assert response.status in (403, 404), (endpoint.path, response.status)
            else:
                assert response.status in (200, 403), (endpoint.path, response.status)


async def test_filters_naming_another_projects_ids_find_nothing(
    tenants: tuple[TestClient, Keys],
) -> None:
    client, keys = tenants
    for url in (
        "/v1/traces?session=other-s1", "/v1/traces?user=other-u1", "/v1/calls?user=other-u2",
        "/v1/sessions?user=other-u1", f"/api/public/observations?traceId={OTHER_TRACE}",
        "/api/public/traces?userId=other-u1", "/v1/metrics/usage?user=other-u1",
    ):  # fmt: skip
        body = await (await client.get(url, headers=keys.default_read)).json()
        assert body["data"] == [], url


async def test_a_cursor_of_another_project_shows_only_ones_own(
    tenants: tuple[TestClient, Keys],
) -> None:
    client, keys = tenants
    other = await (await client.get("/v1/traces?limit=1", headers=keys.other_read)).json()
    assert other["data"][0]["trace_id"] > f"{1000:032x}"
    response = await client.get(
        f"/v1/traces?limit=100&cursor={other['next_cursor']}", headers=keys.default_read
    )
    text = await response.text()
    assert response.status in (200, 400) and "other" not in text


async def test_cache_entries_are_per_project(tenants: tuple[TestClient, Keys]) -> None:
    client, keys = tenants
    url = f"/v1/stats?{RANGE}"
    other = await client.get(url, headers=keys.other_read)
    mine = await client.get(url, headers=keys.default_read)
    assert (other.headers["X-Cache"], mine.headers["X-Cache"]) == ("miss", "miss")
    assert (await other.json())["trace_count"] != (await mine.json())["trace_count"]


async def test_keys_are_judged(tenants: tuple[TestClient, Keys]) -> None:
    client, keys = tenants
    assert (await client.get("/v1/traces", headers=keys.default_ingest)).status == 403
    assert (await client.get("/v1/traces")).status == 401
    wrong_pair = base64.b64encode(
        f"{keys.other_public}:{keys.default_basic['Authorization']}".encode()
    ).decode()
    response = await client.get(
        "/api/public/traces", headers={"Authorization": f"Basic {wrong_pair}"}
    )
    assert response.status == 401
    # Management: another project's keys and prices are not there for a project admin key.
    for path in ("/v1/projects/other/keys", "/v1/projects/other/prices"):
        assert (await client.get(path, headers=keys.default_admin)).status == 404
        assert (
            await client.get(path, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        ).status == 200
    assert (await client.get("/v1/projects/default/keys", headers=keys.default_read)).status == 403
