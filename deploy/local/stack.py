"""`make run`: local PostgreSQL and Redis, migrations, then the three services under hot reload."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

import psycopg
from psycopg import sql

from deploy.local import binaries, servers, sysuser
from deploy.local.reload import Service, run_reloading
from shared.config import redact_url

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / ".data"
DATABASE = "llm_observatory"
DEFAULT_POSTGRES_PORT = 5432
DEFAULT_REDIS_PORT = 6379

SERVICES = (
    Service("collector", "services.collector", ("services/collector", "shared")),
    Service("storage", "services.storage", ("services/storage", "shared")),
    Service("api", "services.api", ("services/api", "shared")),
)
# (what, host variable, port variable, default port, URL scheme): printed from the environment
# the services get, so that ports moved by their variables are the ones shown.
ENDPOINTS = (
    ("collector OTLP gRPC", "COLLECTOR_HOST", "COLLECTOR_GRPC_PORT", 4317, ""),
    ("collector OTLP HTTP", "COLLECTOR_HOST", "COLLECTOR_HTTP_PORT", 4318, "http://"),
    ("API", "API_HOST", "API_PORT", 8080, "http://"),
    ("storage admin", "STORAGE_HOST", "STORAGE_HTTP_PORT", 8081, "http://"),
    ("collector metrics", "COLLECTOR_HOST", "COLLECTOR_METRICS_PORT", 9091, "http://"),
    ("API metrics", "API_HOST", "API_METRICS_PORT", 9092, "http://"),
    ("storage metrics", "STORAGE_HOST", "STORAGE_METRICS_PORT", 9093, "http://"),
)
WILDCARD_HOSTS = ("", "0.0.0.0", "::")


SETUP_ERRORS = (
    servers.ServerError,
    binaries.MissingBinaryError,
    sysuser.SystemUserError,
    psycopg.Error,
)


class StackError(RuntimeError):
    """The stack could not be brought up; the message says what failed."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line (run, migrate or clean); return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m deploy.local.stack", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=("run", "migrate", "clean"),
        help="run: everything with hot reload (default); migrate: start the databases if "
        "needed and apply migrations; clean: delete the local servers' data",
    )
    command = parser.parse_args(argv).command
    if command == "clean":
        return clean()
    # Set both explicitly: a shell starting us in the background may have ignored SIGINT.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    with ExitStack() as stack:
        try:
            env = start_dependencies(stack, os.environ)
            migrate(env)
            if command == "run":
                run_services(stack, env)
        except KeyboardInterrupt:
            print("Stopping...", file=sys.stderr)
        except (StackError, *SETUP_ERRORS) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        finally:
            # Stopping takes a few seconds; a second Ctrl-C must not leave half of it running.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return 0


def start_dependencies(stack: ExitStack, environ: Mapping[str, str]) -> dict[str, str]:
    """Start PostgreSQL and Redis unless DATABASE_URL / REDIS_URL name servers; return the env."""
    database_url = environ.get("DATABASE_URL", "")
    if not database_url:
        port = _choose_port(DEFAULT_POSTGRES_PORT, "PostgreSQL")
        postgres = servers.start_postgres(DATA_DIR / "postgres", port)
        stack.callback(_stop, postgres)
        _create_database(postgres.url, DATABASE)
        database_url = servers.with_database(postgres.url, DATABASE)
    redis_url = environ.get("REDIS_URL", "")
    if not redis_url:
        port = _choose_port(DEFAULT_REDIS_PORT, "Redis")
        redis = servers.start_redis(DATA_DIR / "redis", port)
        stack.callback(_stop, redis)
        redis_url = redis.url
    return {
        **environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": environ.get("LOG_LEVEL", "") or "INFO",
        "LLMOBS_DEV_MODE": "true",
    }


def migrate(env: Mapping[str, str]) -> None:
    """Apply the storage migrations to DATABASE_URL."""
    argv = [sys.executable, "-m", "services.storage", "migrate"]
    result = subprocess.run(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        raise StackError(
            f"migrations failed: python -m services.storage migrate exited {result.returncode}"
        )


def run_services(stack: ExitStack, env: Mapping[str, str]) -> None:
    """Start every service under hot reload, print the endpoints, block until interrupted."""
    processes = {s.name: stack.enter_context(run_reloading(s, REPO, env)) for s in SERVICES}
    print(_endpoints_table(env), flush=True)
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                raise StackError(f"the {name} supervisor (watchfiles) exited {process.returncode}")
        time.sleep(0.5)


def clean() -> int:
    """Delete the local servers' data (and its /tmp stand-in); stop `make run` first."""
    for path in (DATA_DIR, servers.fallback_data_dir(DATA_DIR / "postgres")):
        if path.exists():
            shutil.rmtree(path)
            print(f"removed {path}")
    return 0


def _stop(server: servers.LocalServer) -> None:
    server.stop()
    print(f"{server.name} stopped", file=sys.stderr)


def _choose_port(preferred: int, name: str) -> int:
    if servers.is_port_free(preferred):
        return preferred
    port = servers.find_free_port()
    print(f"{name}: port {preferred} is taken, using {port}", file=sys.stderr)
    return port


def _create_database(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def endpoints(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """Where each service listens, as the environment the services get sets it."""
    rows = []
    for name, host_var, port_var, default_port, scheme in ENDPOINTS:
        host = env.get(host_var, "")
        host = "127.0.0.1" if host in WILDCARD_HOSTS else host
        rows.append((name, f"{scheme}{host}:{env.get(port_var) or default_port}"))
    return rows


def _endpoints_table(env: Mapping[str, str]) -> str:
    rows = [
        *endpoints(env),
        ("PostgreSQL", redact_url(env["DATABASE_URL"])),
        ("Redis", redact_url(env["REDIS_URL"])),
    ]
    lines = [f"  {name:<20} {where}" for name, where in rows]
    reload_note = "edit services/<name>/ or shared/ and that service restarts"
    return "\n".join(
        ["", "LLM Observatory is running:", *lines, "", f"  {reload_note}; Ctrl-C stops all", ""]
    )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
