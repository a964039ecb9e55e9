"""Direct SQL over raw spans: the answers the API's endpoints are compared with."""

from __future__ import annotations

from typing import Any

import psycopg
from aiohttp.test_utils import TestClient

ENV = "coalesce(resource_attributes ->> 'deployment.environment.name', '')"
RANGE = "from=2026-11-20T00:00:00Z&to=2026-11-23T00:00:00Z"


def rows(database_url: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Every row of a query."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


def ids(database_url: str, query: str) -> set[str]:
    """The first column of a query, as a set."""
    return {row[0] for row in rows(database_url, query)}


async def pages(api: TestClient, url: str, headers: dict[str, str] | None = None) -> list[Any]:
    """Every item of a cursor-paginated list, following `next_cursor`."""
    items: list[Any] = []
    separator = "&" if "?" in url else "?"
    next_url = url
    for _ in range(200):
        response = await api.get(next_url, headers=headers)
        assert response.status == 200, (next_url, await response.text())
        body = await response.json()
        items += body["data"]
        if not body["next_cursor"]:
            return items
        next_url = f"{url}{separator}cursor={body['next_cursor']}"
    raise AssertionError("more than 200 pages")
