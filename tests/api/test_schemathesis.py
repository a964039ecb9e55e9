"""Schemathesis against /openapi.json of a running API process: no 5xx, no schema violation.

Bounded: a fixed seed, a few examples per operation and a time budget. One worker:
hypothesis's AST introspection is not thread-safe on every CPython 3.11 patch release.
Two runs: with a valid project key (scopes read and admin, so that the real handlers of reads
and of the project's management answer) for about a minute, and without credentials (every
operation's documented 401) for a shorter while.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.servers import find_free_port
from shared.apikeys import generate_key
from shared.keystore import create_key
from tests.api.seed import seed

ROOT = Path(__file__).resolve().parents[2]
ST = Path(sys.executable).with_name("st")
ADMIN_KEY = "schemathesis-admin-key-0123456789"
PEPPER = "schemathesis-pepper"


async def create_project_key(database_url: str) -> str:
    """A key of the seeded project `default` with the read and admin scopes."""
    import psycopg

    key = generate_key()
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await create_key(conn, key, "default", "schemathesis", ("read", "admin"), PEPPER)
    return key.secret


@pytest.fixture
def api_process(database_url: str, redis_url: str) -> Iterator[str]:
    port, metrics_port = find_free_port(), find_free_port()
    env = {
        **os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "API_HOST": "127.0.0.1", "API_PORT": str(port), "API_METRICS_PORT": str(metrics_port),
        "LLMOBS_DEV_MODE": "false", "LLMOBS_KEY_PEPPER": PEPPER, "RATE_LIMIT_REQUESTS": "0",
        "LOG_LEVEL": "ERROR",
        "LLMOBS_ADMIN_KEY": ADMIN_KEY, "API_STATEMENT_TIMEOUT_MS": "5000",
    }  # fmt: skip
    # The server's log is dropped: aiohttp logs every over-long request line schemathesis sends.
    process = subprocess.Popen(
        [sys.executable, "-m", "services.api"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.parametrize("credentials", ["project key", "none"])
def test_no_server_error_and_no_schema_violation(
    api_process: str, database_url: str, tmp_path: Path, credentials: str
) -> None:
    assert ST.exists() or shutil.which("st"), "schemathesis (the dev extra) is not installed"
    asyncio.run(seed(database_url))
    headers: list[str] = []
    max_seconds = 20
    if credentials == "project key":
        secret = asyncio.run(create_project_key(database_url))
        headers = ["--header", f"Authorization: Bearer {secret}"]
        max_seconds = 60
    command = [
        str(ST if ST.exists() else shutil.which("st")), "run", f"{api_process}/openapi.json",
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance",
        "--phases", "examples,coverage,fuzzing", "--max-examples", "15", "--seed", "1",
        "--max-time", str(max_seconds), "--workers", "1", "--no-color",
        "--generation-database", "none",
        "--report-dir", str(tmp_path), *headers,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    (tmp_path / "schemathesis.out").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
