"""Fixtures for end-to-end tests: the three services running against the test's database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.services import Stack, build_stack


@pytest.fixture
def stack(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    """A running stack; service logs are in the test's tmp_path."""
    running = build_stack(database_url, redis_url, tmp_path, STORAGE_CLAIM_IDLE_SECONDS="2")
    try:
        running.start()
        yield running
    finally:
        running.stop()
