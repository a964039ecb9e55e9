"""How long the reliability suite runs: short under `make test`, full under `make reliability`."""

from __future__ import annotations

import os

# `make reliability` sets RELIABILITY_FULL=1: longer loads and 10-minute fuzz runs.
IS_FULL = os.environ.get("RELIABILITY_FULL", "") == "1"


def pick(short: int, full: int) -> int:
    """The short number under `make test`, the full one under `make reliability`."""
    return full if IS_FULL else short
