"""seed-data/: the seed loads into a migrated database exactly as storage would have written it,
the API serves it, running it again changes nothing, and reset empties the telemetry."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg
from aiohttp.test_utils import TestClient, TestServer

from services.api.app import create_app
from services.api.config import ApiConfig
from services.storage.rows import STAGING_COLUMNS
from services.storage.writer import write_spans
from tests.deploy.config_env import ROOT

SEED = ROOT / "seed-data" / "seed.sql"
RESET = ROOT / "seed-data" / "reset.sql"
SEEDED_TRACES = 5
# The writer's staging rows read back from stored spans (text, as COPY takes them).
STAGING_TEXT = ", ".join(
    "(extract(epoch FROM received_at) * 1000000000)::bigint::text"
    if column == "received_unix_nano"
    else f"{column}::text"
    for column in STAGING_COLUMNS
)
TRACE_COUNTS = "SELECT * FROM trace_counts_1h WHERE trace_count <> 0 ORDER BY 1, 2"
ROLLUPS = tuple(
    f"{kind}_{level}"
    for kind in ("usage", "latency_hist", "sampled_out")
    for level in ("1m", "1h", "1d")
)
SEEDED_SPANS = 14
AGENT_TRACE = "5eed0000000000000000000000000003"


def apply(url: str, path: Path) -> None:
    """Run a file as `psql < file` does: its own BEGIN/COMMIT, many statements at once."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(path.read_text())


def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def count(url: str, table: str) -> int:
    return int(rows(url, f"SELECT count(*) FROM {table}")[0][0])


def spans_without_stored_at(url: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("SELECT * FROM spans ORDER BY trace_id, span_id")
        return [{k: v for k, v in row.items() if k != "stored_at"} for row in cur.fetchall()]


def traces_without_updated_at(url: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("SELECT * FROM traces ORDER BY project_id, trace_id")
        return [{k: v for k, v in row.items() if k != "updated_at"} for row in cur.fetchall()]


def test_seed_loads_into_a_migrated_database(database_url: str) -> None:
    apply(database_url, SEED)
    assert count(database_url, "traces") == SEEDED_TRACES
    assert count(database_url, "spans") == SEEDED_SPANS
    (summary,) = rows(
        database_url,
        "SELECT count(*) FILTER (WHERE llm_is_counted), count(DISTINCT provider),"
        " count(*) FILTER (WHERE status_code = 2), sum(cost_usd) > 0 FROM spans",
    )
    assert summary == (7, 3, 2, True)  # LLM calls, providers, errors, priced


async def test_seed_is_what_storage_itself_would_have_written(database_url: str) -> None:
    apply(database_url, SEED)
    seeded_spans = spans_without_stored_at(database_url)
    seeded_traces = traces_without_updated_at(database_url)
    seeded_counts = rows(database_url, TRACE_COUNTS)
    # Read the spans back as the writer's staging rows (text, as COPY takes them), empty the
    # tables, and write the rows through storage's own writer.
    staging = rows(database_url, f"SELECT {STAGING_TEXT} FROM spans ORDER BY trace_id, span_id")
    apply(database_url, RESET)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        written = await write_spans(conn, staging)
    assert written == SEEDED_SPANS
    assert spans_without_stored_at(database_url) == seeded_spans
    assert traces_without_updated_at(database_url) == seeded_traces
    assert rows(database_url, TRACE_COUNTS) == seeded_counts


def test_seed_runs_again_and_replaces_its_traces(database_url: str) -> None:
    apply(database_url, SEED)
    apply(database_url, SEED)
    assert count(database_url, "traces") == SEEDED_TRACES
    assert count(database_url, "spans") == SEEDED_SPANS


async def test_reset_empties_the_telemetry_and_keeps_the_default_project(
    database_url: str,
) -> None:
    apply(database_url, SEED)
    # Rows as storage's writer leaves them: spans, traces, hourly trace counts and rollups.
    staging = rows(database_url, f"SELECT {STAGING_TEXT} FROM spans ORDER BY trace_id, span_id")
    apply(database_url, RESET)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await write_spans(conn, staging)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO projects (project_id, name) VALUES ('other', 'Other')")
    assert count(database_url, "usage_1m") > 0 and count(database_url, "trace_counts_1h") > 0
    apply(database_url, RESET)
    for table in ("spans", "traces", "trace_counts_1h", *ROLLUPS):
        assert count(database_url, table) == 0, table
    assert rows(database_url, "SELECT project_id FROM projects") == [("default",)]
    assert count(database_url, "schema_migrations") > 0


def psql() -> str:
    """The psql client: on PATH, or beside the PostgreSQL server the tests run."""
    from deploy.local.binaries import find_postgres_bindir

    return shutil.which("psql") or str(find_postgres_bindir(None) / "psql")


def test_psql_runs_both_files_as_documented(database_url: str) -> None:
    for path in (SEED, RESET, SEED):
        with path.open("rb") as stdin:
            result = subprocess.run(
                [psql(), "--no-psqlrc", "-v", "ON_ERROR_STOP=1", database_url],
                stdin=stdin,
                capture_output=True,
                timeout=60,
                check=False,
            )
        assert result.returncode == 0, result.stderr.decode()
    assert count(database_url, "traces") == SEEDED_TRACES


async def test_the_api_serves_the_seeded_traces(database_url: str, redis_url: str) -> None:
    apply(database_url, SEED)
    # Dev mode: anonymous reads of the default project, where the seed data lives.
    config = ApiConfig(database_url=database_url, redis_url=redis_url, dev_mode=True)
    client = TestClient(TestServer(create_app(config)))
    await client.start_server()
    try:
        listed = await client.get("/v1/traces")
        assert listed.status == 200
        traces = (await listed.json())["data"]
        assert len(traces) == SEEDED_TRACES
        newest = traces[0]
        assert (newest["error_count"], newest["llm_call_count"]) == (2, 1)
        agent = await client.get(f"/v1/traces/{AGENT_TRACE}")
        assert agent.status == 200
        body = await agent.json()
    finally:
        await client.close()
    (root,) = body["spans"]
    assert root["llm"]["span_type"] == "agent"
    calls = [child["llm"] for child in root["children"]]
    assert [call["operation"] for call in calls] == ["chat", "execute_tool", "chat"]
    assert calls[0]["tool_calls"][0]["name"] == "get_weather"
    assert calls[2]["usage"]["cache_read_tokens"] == 1280
