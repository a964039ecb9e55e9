"""TimescaleDB for the tests: ../shared/tools/timescaledb-lite (TimescaleDB 2.23 on PGlite, served
on the PostgreSQL wire protocol), copied to a scratch folder and started with node."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from deploy.local.servers import find_free_port

ROOT = Path(__file__).resolve().parents[1]
# Where CI (and every checkout beside the team's shared folder) has it.
TOOL_DIR = ROOT.parent / "shared" / "tools" / "timescaledb-lite"
START_TIMEOUT_SECONDS = 60

# The server is one database session for its whole life, and TimescaleDB cannot be created
# again in a session that loaded it: a test starts afresh by dropping what the migrations
# created in `public` (continuous aggregates first), never the extension itself.
RESET = """
DO $$
DECLARE
    name text;
BEGIN
    FOR name IN SELECT format('%I.%I', view_schema, view_name)
                FROM timescaledb_information.continuous_aggregates LOOP
        EXECUTE 'DROP MATERIALIZED VIEW IF EXISTS ' || name || ' CASCADE';
    END LOOP;
    FOR name IN SELECT format('DROP %s IF EXISTS %s CASCADE',
                              CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                             WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                              c.oid::regclass)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
                  -- Extension members, and identity sequences (they go with their table).
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                  AND d.objid = c.oid AND d.deptype IN ('e', 'i'))
                ORDER BY c.relkind = 'v' DESC LOOP
        EXECUTE name;
    END LOOP;
    FOR name IN SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure)
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'public'
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                  AND d.objid = p.oid AND d.deptype = 'e') LOOP
        EXECUTE name;
    END LOOP;
END
$$
"""


def missing_prerequisite() -> str | None:
    """Why the server cannot be started here, or None."""
    if not (TOOL_DIR / "server.mjs").is_file():
        return f"{TOOL_DIR} not found"
    for program in ("node", "npm"):
        if shutil.which(program) is None:
            return f"{program} is not installed"
    return None


@contextmanager
def start_timescale_lite(work_dir: Path) -> Iterator[str]:
    """Copy the tool to `work_dir`, install it, start it on a free port; yield its URL."""
    shutil.copytree(TOOL_DIR, work_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
        "node_modules"))  # fmt: skip
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund"], cwd=work_dir, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    port = find_free_port()
    log_path = work_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["node", "server.mjs"], cwd=work_dir, env={**os.environ, "PORT": str(port)},
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_listening(process, log_path)
        yield f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _wait_listening(process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if "listening" in log_path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"timescaledb-lite did not start: {log_path.read_text()[-2000:]}")


def reset(url: str) -> None:
    """Drop everything the migrations created (the extension stays loaded)."""
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        if exists:
            conn.execute(RESET)
        else:
            conn.execute("DROP TABLE IF EXISTS schema_migrations")
