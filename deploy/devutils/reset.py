"""`make reset`: run seed-data/reset.sql against DATABASE_URL, or against `make run`'s database."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import psycopg

from deploy.local import servers
from deploy.local.stack import DATA_DIR, DATABASE, REPO
from shared.config import redact_url

RESET_SQL = REPO / "seed-data" / "reset.sql"
# postmaster.pid: pid, data directory, start time, port, ... (one value a line).
PID_FILE_PORT_LINE = 3


class ResetError(RuntimeError):
    """There is no database to reset, or the reset failed; the message says which."""


def local_stack_url(data_dir: Path = DATA_DIR / "postgres") -> str:
    """The URL of the PostgreSQL `make run` started, read from its postmaster.pid."""
    for directory in (data_dir, servers.fallback_data_dir(data_dir)):
        try:
            lines = (directory / "postmaster.pid").read_text().splitlines()
        except OSError:
            continue
        if len(lines) > PID_FILE_PORT_LINE and lines[PID_FILE_PORT_LINE].strip().isdigit():
            port = int(lines[PID_FILE_PORT_LINE])
            return f"postgresql://{servers.POSTGRES_USER}@{servers.HOST}:{port}/{DATABASE}"
    raise ResetError(
        "DATABASE_URL is not set and the local stack's PostgreSQL is not running: "
        "start `make run` first, or set DATABASE_URL"
    )


def database_url(environ: Mapping[str, str], given: str = "") -> str:
    """`given`, else DATABASE_URL, else the local stack's database."""
    return given or environ.get("DATABASE_URL", "") or local_stack_url()


def reset(url: str, script: Path = RESET_SQL) -> None:
    """Run the reset script (its own transaction) against `url`."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(script.read_text().encode())
    except psycopg.Error as error:
        raise ResetError(f"reset of {redact_url(url)} failed: {error}") from error


def main(argv: Sequence[str] | None = None) -> int:
    """Reset the database; exit 1 with the reason when there is none or it fails."""
    parser = argparse.ArgumentParser(prog="python -m deploy.devutils.reset", description=__doc__)
    parser.add_argument("--database-url", default="", help="default: DATABASE_URL, else make run's")
    args = parser.parse_args(argv)
    try:
        url = database_url(os.environ, args.database_url)
        reset(url)
    except ResetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Reset {redact_url(url)}: telemetry deleted, schema and default project kept")
    return 0


if __name__ == "__main__":
    sys.exit(main())
