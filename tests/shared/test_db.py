"""Connection pools: per-connection settings, and a TOAST method the server lacks."""

from __future__ import annotations

import json
import logging
import random

import pytest

from deploy.devutils.workload import text_of
from shared.db import open_pool, toast_compression

LARGE = {"text": text_of(random.Random(2), 40_000)}


async def _stored_with(database_url: str, method: str) -> str | None:
    # Two connections, both configured before use: the fallback is said once for the pool.
    pool = await open_pool(database_url, 2, 2, configure=toast_compression(method))
    try:
        await pool.wait()
        async with pool.connection() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS big (id int, body jsonb)")
            await conn.execute("INSERT INTO big VALUES (1, %s::jsonb)", (json.dumps(LARGE),))
            cursor = await conn.execute("SELECT pg_column_compression(body) FROM big")
            row = await cursor.fetchone()
            await conn.execute("DROP TABLE big")
    finally:
        await pool.close()
    return None if row is None else row[0]


async def test_large_values_use_the_method_asked_for(database_url: str) -> None:
    assert await _stored_with(database_url, "lz4") == "lz4"
    assert await _stored_with(database_url, "pglz") == "pglz"


async def test_a_method_the_server_lacks_falls_back_with_one_warning(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.db"):
        assert await _stored_with(database_url, "no-such-method") == "pglz"
    warnings = [r for r in caplog.records if "TOAST compression not supported" in r.message]
    assert len(warnings) == 1
