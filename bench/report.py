"""Results into docs/benchmarks.md: each benchmark owns a section between two HTML comments and
rewrites it on every run; the rest of the page is left as it is."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
# Sections without their markers yet go before this heading (or at the end of the page).
INSERT_BEFORE = "## What this says"


def machine() -> str:
    """Cores, memory, load average, kernel and Python of this machine, in one line."""
    with open("/proc/meminfo") as meminfo:
        kib = int(meminfo.readline().split()[1])
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, {kib / 2**20:.0f} GiB, load average {load} at the start,"
        f" Linux {platform.release()}, Python {platform.python_version()}"
    )


def server_versions(database_url: str, redis_url: str | None = None) -> str:
    """PostgreSQL (and Redis) versions as the servers report them."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    versions = f"PostgreSQL {row[0] if row else '?'}"
    if redis_url:
        import redis

        info = redis.Redis.from_url(redis_url).info("server")
        versions += f", Redis {info['redis_version']}"
    return versions


def git_commit() -> str:
    """The commit measured, with -dirty when files other than docs/ (which the benchmarks
    rewrite) have uncommitted changes."""

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                check=False)  # fmt: skip
        return result.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("-dirty" if git("status", "--porcelain", "--", ".", ":(exclude)docs") else "")


def today() -> str:
    """The UTC date of the run."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(name: str, markdown: str, path: Path = DOCS) -> None:
    """Replace section `name` of `path` with `markdown` (added before INSERT_BEFORE if new)."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text()
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    elif INSERT_BEFORE in text:
        text = text.replace(INSERT_BEFORE, f"{block}\n\n{INSERT_BEFORE}", 1)
    else:
        text = text.rstrip() + f"\n\n{block}\n"
    path.write_text(text)


def number(value: float | None, digits: int = 0) -> str:
    """A figure with thousands separators; "—" for a missing one."""
    if value is None or value != value:  # None or nan
        return "—"
    return f"{value:,.{digits}f}"
