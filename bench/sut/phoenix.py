"""Arize Phoenix as a system under test: `phoenix serve` from its own virtual environment (a
pinned release from PyPI), its PostgreSQL backend on a database of the shared server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

from bench.load import Endpoints
from deploy.local.servers import find_free_port, with_database

ROOT = Path(__file__).resolve().parents[2]
VERSION = "20.26.1"
REQUIREMENT = f"arize-phoenix[pg]=={VERSION}"  # [pg]: asyncpg, its PostgreSQL driver
VENV = ROOT / ".bench" / "phoenix-venv"
START_TIMEOUT_SECONDS = 180.0


def ensure_venv(venv: Path = VENV) -> Path:
    """Create `venv` with the pinned Phoenix release unless it is there; return its `phoenix`."""
    stamp = venv / f".installed-{VERSION}"
    if not stamp.exists():
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        print(f"installing {REQUIREMENT} into {venv} (once)", flush=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", REQUIREMENT],
            check=True,
        )  # fmt: skip
        stamp.touch()
    return venv / "bin" / "phoenix"


class Phoenix:
    """One `phoenix serve` process; spans go to its `spans` table."""

    name = "Arize Phoenix"
    version = VERSION

    def __init__(self, server_url: str, workdir: Path, database: str) -> None:
        self._server_url, self._workdir, self._database = server_url, workdir, database
        self._database_url = with_database(server_url, database)
        self._http_port, self._grpc_port = find_free_port(), find_free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Create the database, start `phoenix serve` (it migrates), wait for /healthz."""
        executable = ensure_venv()
        with psycopg.connect(self._server_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self._database}")
        self._workdir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PHOENIX_SQL_DATABASE_URL": self._database_url,
            "PHOENIX_HOST": "127.0.0.1",
            "PHOENIX_PORT": str(self._http_port),
            "PHOENIX_GRPC_PORT": str(self._grpc_port),
            "PHOENIX_WORKING_DIR": str(self._workdir / "phoenix"),
            "PHOENIX_TELEMETRY_ENABLED": "false",
            "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
            "PHOENIX_DISABLE_AGENT_ASSISTANT": "true",
            "PHOENIX_LOGGING_LEVEL": "warning",
        }
        log_path = self._workdir / "phoenix.log"
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(executable), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"phoenix exited: {log_path.read_text()[-3000:]}")
            try:
                url = f"http://127.0.0.1:{self._http_port}/healthz"
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"phoenix did not become healthy: {log_path.read_text()[-3000:]}")

    @property
    def endpoints(self) -> Endpoints:
        """Its OTLP gRPC port and HTTP /v1/traces."""
        return Endpoints(
            f"127.0.0.1:{self._grpc_port}", f"http://127.0.0.1:{self._http_port}/v1/traces"
        )

    @property
    def database_url(self) -> str:
        """Its own database on the shared server."""
        return self._database_url

    @property
    def count_spans_sql(self) -> str:
        """Phoenix keeps one row per span in `spans`."""
        return "SELECT count(*) FROM spans"

    def server_pids(self) -> dict[str, int]:
        """The `phoenix serve` process (HTTP, gRPC and the bulk inserter share it)."""
        return {"phoenix": self._process.pid} if self._process else {}

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 30 s."""
        if self._process and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
