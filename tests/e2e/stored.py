"""Reading what the running stack stored, waiting until an expected number of rows arrived."""

from __future__ import annotations

import time
from typing import Any

import psycopg


def wait_for_rows(
    database_url: str, query: str, params: tuple[Any, ...], count: int, timeout: float = 20
) -> list[tuple[Any, ...]]:
    """The rows of `query` once there are at least `count`, after one more look a moment later
    (a duplicate arriving late must show); AssertionError naming what was seen on timeout."""
    deadline = time.monotonic() + timeout
    rows: list[tuple[Any, ...]] = []
    while time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(query, params).fetchall()  # type: ignore[arg-type]
        if len(rows) >= count:
            time.sleep(0.5)
            with psycopg.connect(database_url) as conn:
                return conn.execute(query, params).fetchall()  # type: ignore[arg-type]
        time.sleep(0.1)
    raise AssertionError(f"expected {count} rows within {timeout}s, found {len(rows)}: {rows}")
