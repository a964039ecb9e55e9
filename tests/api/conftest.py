"""The API app on aiohttp's test server, against the test's own database and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.api.app import create_app
from services.api.config import ApiConfig


def api_config(database_url: str, redis_url: str) -> ApiConfig:
    return ApiConfig(database_url=database_url, redis_url=redis_url, dev_mode=True)


@pytest.fixture
async def api(database_url: str, redis_url: str) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(api_config(database_url, redis_url))))
    await client.start_server()
    yield client
    await client.close()
