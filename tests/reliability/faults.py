"""What the fault tests share: a stack on the fault servers, and the ledger entry of a case."""

from __future__ import annotations

from pathlib import Path

import redis

from shared.handoff import DEFAULT_DEAD_LETTER_STREAM, DEFAULT_STREAM
from tests.e2e.services import Stack, build_stack
from tests.reliability.ledger import FAULT, Case, FaultCounts, Ledger


def start_stack(database_url: str, redis_url: str, log_dir: Path, **extra_env: str) -> Stack:
    """Storage, collector and api on the given servers; storage claims stale entries after 2 s."""
    stack = build_stack(
        database_url, redis_url, log_dir, STORAGE_CLAIM_IDLE_SECONDS="2", **extra_env
    )
    stack.start()
    return stack


def stream_lengths(redis_url: str) -> tuple[int, int]:
    """(entries waiting in the hand-off stream, entries in the dead-letter stream)."""
    with redis.Redis.from_url(redis_url) as client:
        return int(client.xlen(DEFAULT_STREAM)), int(client.xlen(DEFAULT_DEAD_LETTER_STREAM))


def record_fault(ledger: Ledger, name: str, load: str, counts: FaultCounts, notes: str) -> Case:
    """Add the case to the ledger, then check the promise: nothing acknowledged is lost or
    doubled (the case is marked passed only when that holds)."""
    case = ledger.record(Case(FAULT, name, load, counts.as_dict(), notes))
    assert counts.acknowledged > 0, "the load must have been acknowledged in part at least"
    assert counts.lost == 0, f"{counts.lost} acknowledged spans are not stored"
    assert counts.duplicates == 0, f"{counts.duplicates} spans are stored twice"
    assert counts.stored >= counts.acknowledged
    case.passed = True
    return case
