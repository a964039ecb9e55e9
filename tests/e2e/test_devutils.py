"""Developer tools against the running stack: the documented curl of test-data/sample-trace.json,
`make seed` (python -m deploy.devutils.seed) through the collector, and `make reset`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from deploy.devutils.reset import ResetError, local_stack_url
from tests.e2e.services import ROOT, Stack
from tests.e2e.stored import wait_for_rows

SAMPLE = ROOT / "test-data" / "sample-trace.json"
SAMPLE_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def one(database_url: str, query: str) -> tuple[object, ...]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return tuple(row)


def test_the_documented_curl_of_the_sample_trace_is_accepted(
    stack: Stack, database_url: str
) -> None:
    # Exactly the README's command, with the test's port instead of 4318.
    result = subprocess.run(
        ["curl", "-sS", "-X", "POST", f"{stack.http_endpoint}/v1/traces",
         "-H", "Content-Type: application/json", "-d", f"@{SAMPLE}",
         "-w", "\n%{http_code}"],
        cwd=ROOT, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    body, status = result.stdout.rsplit("\n", 1)
    assert status == "200", body
    assert json.loads(body).get("partialSuccess", {}).get("rejectedSpans") in (None, "0", 0)
    rows = wait_for_rows(
        database_url,
        "SELECT name, provider, request_model, cache_read_tokens, time_to_first_token_ms,"
        " cost_usd > 0 FROM spans WHERE trace_id = %s AND llm_is_counted ORDER BY start_time",
        (SAMPLE_TRACE_ID,),
        2,
    )
    assert rows == [
        ("chat gpt-4o-mini", "openai", "gpt-4o-mini", 256, 312.0, True),
        ("chat gpt-4o-mini", "openai", "gpt-4o-mini", None, None, True),
    ]
    (spans,) = one(database_url, f"SELECT count(*) FROM spans WHERE trace_id = '{SAMPLE_TRACE_ID}'")
    assert spans == 4


def test_seed_sends_varied_llm_traffic_over_days_through_the_collector(
    stack: Stack, database_url: str
) -> None:
    argv = [sys.executable, "-m", "deploy.devutils.seed", "--endpoint", stack.http_endpoint]
    argv += ["--days", "3", "--traces", "200"]
    result = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"(\d+) spans in (\d+) requests, 0 rejected", result.stdout)
    assert found, result.stdout
    sent = int(found[1])
    wait_for_rows(database_url, "SELECT 1 FROM spans", (), sent, timeout=60)

    (spans, traces, days, newest_age_minutes) = one(
        database_url,
        "SELECT count(*), count(DISTINCT trace_id),"
        " extract(epoch FROM max(start_time) - min(start_time)) / 86400,"
        " extract(epoch FROM now() - max(start_time)) / 60 FROM spans",
    )
    assert (spans, traces) == (sent, 200)
    assert 2 < float(days) <= 3  # type: ignore[arg-type]
    assert 1 <= float(newest_age_minutes) < 12 * 60  # type: ignore[arg-type]
    (providers, models, services, users, operations) = one(
        database_url,
        "SELECT count(DISTINCT provider), count(DISTINCT request_model),"
        " count(DISTINCT service_name), count(DISTINCT user_id), count(DISTINCT operation)"
        " FROM spans WHERE llm_is_counted",
    )
    assert (providers, models, services) == (4, 8, 4)
    assert users > 20  # type: ignore[operator]
    assert operations == 2  # chat and embeddings
    (error_types, rate_limited, unpriced, streamed, cached, reasoning, tools) = one(
        database_url,
        "SELECT count(DISTINCT error_type) FILTER (WHERE is_error),"
        " count(*) FILTER (WHERE error_type = '429'),"
        " count(*) FILTER (WHERE llm_is_counted AND cost_usd IS NULL AND NOT is_error),"
        " count(time_to_first_token_ms), count(*) FILTER (WHERE cache_read_tokens > 0),"
        " count(*) FILTER (WHERE reasoning_tokens > 0),"
        " count(*) FILTER (WHERE operation = 'execute_tool') FROM spans",
    )
    assert error_types >= 3  # type: ignore[operator]
    assert all(n > 0 for n in (rate_limited, unpriced, streamed, cached, reasoning, tools))  # type: ignore[operator]
    (multi_turn_sessions,) = one(
        database_url,
        "SELECT count(*) FROM (SELECT session_id FROM traces WHERE session_id IS NOT NULL"
        " GROUP BY session_id HAVING count(*) >= 2) AS sessions",
    )
    assert multi_turn_sessions > 5  # type: ignore[operator]

    reset = subprocess.run(
        [sys.executable, "-m", "deploy.devutils.reset"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert reset.returncode == 0, reset.stderr
    emptied = one(
        database_url, "SELECT (SELECT count(*) FROM spans) + (SELECT count(*) FROM traces)"
    )
    assert emptied == (0,)


def test_reset_finds_the_local_stacks_database_from_its_pid_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "postgres"
    data_dir.mkdir()
    (data_dir / "postmaster.pid").write_text(f"4242\n{data_dir}\n1767225600\n54329\n\n127.0.0.1\n")
    assert local_stack_url(data_dir) == "postgresql://postgres@127.0.0.1:54329/llm_observatory"


def test_reset_without_a_database_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ResetError, match="start `make run` first, or set DATABASE_URL"):
        local_stack_url(tmp_path / "postgres")
