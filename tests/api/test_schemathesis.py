"""Schemathesis against /openapi.json of a running API process: no 5xx, no schema violation.

Bounded: a fixed seed, a few examples per operation and a time budget (about a minute). One
worker: hypothesis's AST introspection is not thread-safe on every CPython 3.11 patch release.
The management endpoints are exercised without credentials (their 401 is documented).
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
from tests.api.seed import seed

ROOT = Path(__file__).resolve().parents[2]
ST = Path(sys.executable).with_name("st")
ADMIN_KEY = "schemathesis-admin-key-0123456789"


@pytest.fixture
def api_process(database_url: str, redis_url: str) -> Iterator[str]:
    port, metrics_port = find_free_port(), find_free_port()
    env = {
        **os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "API_HOST": "127.0.0.1", "API_PORT": str(port), "API_METRICS_PORT": str(metrics_port),
        "LLMOBS_DEV_MODE": "true", "RATE_LIMIT_REQUESTS": "0", "LOG_LEVEL": "ERROR",
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
@pytest.mark.skipif(not ST.exists() and not shutil.which("st"), reason="schemathesis missing")
def test_no_server_error_and_no_schema_violation(
    api_process: str, database_url: str, tmp_path: Path
) -> None:
    asyncio.run(seed(database_url))
    command = [
        str(ST if ST.exists() else shutil.which("st")), "run", f"{api_process}/openapi.json",
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance",
        "--phases", "examples,coverage,fuzzing", "--max-examples", "15", "--seed", "1",
        "--max-time", "60", "--workers", "1", "--no-color", "--generation-database", "none",
        "--report-dir", str(tmp_path),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    (tmp_path / "schemathesis.out").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
