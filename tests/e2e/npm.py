"""Node and npm for the end-to-end tests that run JavaScript (the OTel JS SDK, the browser
driver): a missing tool fails the test with what to install; packages come from the project's
package-lock.json with `npm ci`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def require_tool(name: str, needed_for: str) -> str:
    """The path of `name`, or a failure saying which test needs it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not on PATH: {needed_for} needs node and npm")
    return path


def npm_ci(project: Path, needed_for: str) -> None:
    """`npm ci` into `project` unless a complete install is there already."""
    # npm writes this last: its presence means a complete install.
    if (project / "node_modules" / ".package-lock.json").exists():
        return
    result = subprocess.run(
        [require_tool("npm", needed_for), "ci", "--no-audit", "--no-fund"], cwd=project,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.fail(f"npm ci failed in {project}:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
