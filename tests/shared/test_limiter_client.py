"""The applications' limiter client, async and sync, against the real API: commit with the
actual amount on success, release on exception, LimitExceededError naming the limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.api.app import create_app
from shared.limiter_client import AsyncLimiter, Limiter, LimitExceededError
from shared.usage_limits import LEASE_ID_ATTRIBUTE
from tests.api.conftest import api_config

ADMIN = {"Authorization": "Bearer operator-key-0123456789abcdef"}


@pytest.fixture
async def api(database_url: str, redis_url: str) -> AsyncIterator[tuple[TestClient, str]]:
    config = replace(
        api_config(database_url, redis_url), dev_mode=False, admin_key=ADMIN["Authorization"][7:],
        key_cache_ttl_seconds=0, rate_limit_requests=0, limits_defaults="user:tpm=1000",
    )  # fmt: skip
    async with TestClient(TestServer(create_app(config))) as client:
        await client.post("/v1/projects", json={"project_id": "acme"}, headers=ADMIN)
        made = await client.post("/v1/projects/acme/keys", headers=ADMIN,
                                 json={"scopes": ["ingest", "read"]})  # fmt: skip
        yield client, (await made.json())["secret"]


async def remaining(client: TestClient, key: str, entity: str) -> float:
    answer = await client.get(f"/v1/limits/{entity}", headers={"Authorization": f"Bearer {key}"})
    (bucket,) = (await answer.json())["buckets"]
    return float(bucket["remaining"])


async def test_async_client_commits_the_actual_and_releases_on_error(
    api: tuple[TestClient, str],
) -> None:
    client, key = api
    limiter = AsyncLimiter(str(client.make_url("")), key)
    async with limiter.acquire("user:alice", "gpt-4o", tpm=500) as lease:
        assert lease.attributes == {LEASE_ID_ATTRIBUTE: lease.lease_id}
        lease.adjust(tpm=100)
    assert 900 <= await remaining(client, key, "user:alice") < 905
    with pytest.raises(ZeroDivisionError):
        async with limiter.acquire("user:alice", tpm=800):
            raise ZeroDivisionError
    assert 900 <= await remaining(client, key, "user:alice") < 905
    async with limiter.acquire("user:alice", tpm=850):
        pass  # committed at the estimate
    with pytest.raises(LimitExceededError) as refused:
        async with limiter.acquire("user:alice", tpm=500):
            pass
    assert refused.value.retry_after_ms > 0
    assert [item["status"] for item in refused.value.limits] == ["exceeded"]
    await limiter.aclose()


async def test_sync_client_does_the_same(api: tuple[TestClient, str]) -> None:
    client, key = api
    limiter = Limiter(str(client.make_url("")), key)

    def use() -> None:
        with limiter.acquire("user:bob", tpm=500) as lease:
            lease.adjust(tpm=300)
        with pytest.raises(KeyError), limiter.acquire("user:bob", tpm=600):
            raise KeyError("boom")
        with pytest.raises(LimitExceededError), limiter.acquire("user:bob", tpm=800):
            pass

    await asyncio.to_thread(use)
    assert 700 <= await remaining(client, key, "user:bob") < 705
