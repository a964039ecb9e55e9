"""Faults under a steady load, each ending with an exact count: nothing the collector
acknowledged is lost, nothing is stored twice (docs/reliability.md, "Faults")."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg

from tests.reliability.faults import record_fault, start_stack, stream_lengths
from tests.reliability.ledger import CONTROL, Case, Ledger
from tests.reliability.load import HttpLoad, count_outcome, rss_bytes, stored_spans
from tests.reliability.scale import pick
from tests.reliability.servers import PostgresProcess, RedisProcess


def wait_for(condition: object, timeout_seconds: float = 30.0, what: str = "") -> None:
    """Poll `condition()` until true; fail naming `what` after the timeout."""
    deadline = time.monotonic() + timeout_seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def row_count(conn: psycopg.Connection[tuple[int]]) -> int:
    """Rows in spans, read on an open connection (no sort, nothing written)."""
    row = conn.execute("SELECT count(*) FROM spans").fetchone()
    return int(row[0]) if row else 0


def stored_total(database_url: str) -> int:
    return sum(distinct for _, distinct in stored_spans(database_url).values())


def test_storage_sigkill_and_restart(
    fault_database_url: str, fault_redis: RedisProcess, tmp_path: Path, ledger: Ledger
) -> None:
    stack = start_stack(fault_database_url, fault_redis.url, tmp_path)
    try:
        load = HttpLoad(stack.http_endpoint, pick(100, 1000), 100).start()
        wait_for(lambda: stored_total(fault_database_url) > 0, what="the first stored spans")
        stack.storage.kill()
        killed_at = stored_total(fault_database_url)
        time.sleep(0.5)
        stack.storage.start()
        load.join()
        counts = count_outcome(fault_database_url, load.batches, load.acknowledged, 100)
        with psycopg.connect(fault_database_url) as conn:
            traces = conn.execute("SELECT count(*), sum(span_count) FROM traces").fetchone()
    finally:
        stack.stop()
    counts.retried = load.retries
    record_fault(
        ledger,
        "storage killed (SIGKILL) mid-stream, restarted",
        load.description,
        counts,
        f"killed with {killed_at} spans stored",
    )
    assert 0 < killed_at < counts.acknowledged, "the kill must land while spans are written"
    assert traces == (len(load.acknowledged), counts.acknowledged), "traces fold each span once"


def test_postgres_crash_and_restart(
    fault_postgres: PostgresProcess,
    fault_database_url: str,
    fault_redis: RedisProcess,
    tmp_path: Path,
    ledger: Ledger,
) -> None:
    stack = start_stack(fault_database_url, fault_redis.url, tmp_path)
    try:
        load = HttpLoad(stack.http_endpoint, pick(150, 1500), 100).start()
        wait_for(lambda: stored_total(fault_database_url) > 0, what="the first stored spans")
        fault_postgres.crash()
        time.sleep(pick(2, 10))  # the load goes on: the stream holds it
        backlog, _ = stream_lengths(fault_redis.url)
        fault_postgres.start()
        load.join()
        counts = count_outcome(fault_database_url, load.batches, load.acknowledged, 100)
        _, dead = stream_lengths(fault_redis.url)
    finally:
        stack.stop()
    counts.retried = load.retries
    record_fault(
        ledger,
        "PostgreSQL crashed (immediate stop), restarted",
        load.description,
        counts,
        f"{backlog} batches waited in the stream while it was down",
    )
    assert backlog > 0, "batches must have waited while PostgreSQL was down"
    assert dead == 0, "nothing is dead-lettered because the database was down"


def test_redis_sigkill_with_production_persistence(
    fault_database_url: str, fault_redis: RedisProcess, tmp_path: Path, ledger: Ledger
) -> None:
    stack = start_stack(fault_database_url, fault_redis.url, tmp_path)
    try:
        # Storage down first, so that the acknowledged batches exist only in Redis when it dies.
        stack.storage.kill()
        load = HttpLoad(stack.http_endpoint, pick(100, 1000), 100).start()
        wait_for(lambda: len(load.acknowledged) >= load.batches // 2, 60, "half the load acked")
        fault_redis.kill()
        acknowledged_at_kill = len(load.acknowledged)
        time.sleep(0.5)
        fault_redis.start()
        stack.storage.start()
        load.join()
        counts = count_outcome(fault_database_url, load.batches, load.acknowledged, 100)
    finally:
        stack.stop()
    counts.retried = load.retries
    arguments = " ".join(fault_redis.arguments)
    record_fault(
        ledger,
        "Redis killed (SIGKILL) with storage stopped, restarted",
        load.description,
        counts,
        f"redis-server {arguments} (docker-compose.yml); {acknowledged_at_kill} "
        "acknowledged requests were only in Redis when it died",
    )
    assert acknowledged_at_kill > 0


def test_collector_sigkill_mid_request_sdk_retries(
    fault_database_url: str, fault_redis: RedisProcess, tmp_path: Path, ledger: Ledger
) -> None:
    from tests.reliability.sdk_load import SdkLoad

    stack = start_stack(fault_database_url, fault_redis.url, tmp_path)
    try:
        load = SdkLoad(stack.http_endpoint, pick(60, 600), 200).start()
        wait_for(lambda: len(load.acknowledged) >= load.batches // 4, 60, "a quarter acked")
        stack.collector.kill()
        time.sleep(0.3)
        stack.collector.start()
        load.join()
        counts = count_outcome(fault_database_url, load.batches, load.acknowledged, 200)
    finally:
        stack.stop()
    counts.retried = load.retries
    record_fault(
        ledger,
        "collector killed (SIGKILL) mid-request, restarted",
        load.description,
        counts,
        f"the SDK exporter retried {load.retries} times; "
        f"{load.batches - len(load.acknowledged)} exports reported failed",
    )
    assert load.retries > 0, "the kill must have hit requests in flight or due"
    assert len(load.acknowledged) == load.batches, "the SDK's retries deliver every export"


def test_read_only_database(
    fault_postgres: PostgresProcess,
    fault_database_url: str,
    fault_redis: RedisProcess,
    tmp_path: Path,
    ledger: Ledger,
) -> None:
    stack = start_stack(fault_database_url, fault_redis.url, tmp_path)
    try:
        load = HttpLoad(stack.http_endpoint, pick(150, 1500), 100).start()
        wait_for(lambda: stored_total(fault_database_url) > 0, what="the first stored spans")
        set_read_only(fault_postgres.url, True)
        try:
            time.sleep(1.0)  # a batch already in its transaction may still commit
            frozen = stored_total(fault_database_url)
            time.sleep(pick(3, 20))
            still = stored_total(fault_database_url)
            backlog, dead = stream_lengths(fault_redis.url)
        finally:
            set_read_only(fault_postgres.url, False)
        load.join()
        counts = count_outcome(fault_database_url, load.batches, load.acknowledged, 100)
        _, dead_after = stream_lengths(fault_redis.url)
    finally:
        stack.stop()
    counts.retried = load.retries
    record_fault(
        ledger,
        "database read-only (default_transaction_read_only), then writable",
        load.description,
        counts,
        f"{backlog} batches waited in the stream, none dead-lettered",
    )
    assert still == frozen, "writes stop while the database is read-only"
    assert backlog > 0, "the batches wait in the stream"
    assert dead == dead_after == 0, "a read-only database dead-letters nothing"


def set_read_only(server_url: str, is_read_only: bool) -> None:
    """Make every database of the server read-only (or writable again), sessions included."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        if is_read_only:
            conn.execute("ALTER SYSTEM SET default_transaction_read_only = on")
        else:
            conn.execute("ALTER SYSTEM RESET default_transaction_read_only")
        conn.execute("SELECT pg_reload_conf()")


def test_slow_database_back_pressure_reaches_clients(
    fault_database_url: str, fault_redis: RedisProcess, tmp_path: Path, ledger: Ledger
) -> None:
    stack = start_stack(fault_database_url, fault_redis.url, tmp_path, HANDOFF_MAX_ENTRIES="40")
    assert stack.collector.process is not None
    collector_pid = stack.collector.process.pid
    try:
        load = HttpLoad(stack.http_endpoint, pick(150, 1500), 100).start()
        wait_for(lambda: stored_total(fault_database_url) > 0, what="the first stored spans")
        rss_before = rss_bytes(collector_pid)
        rss_peak = rss_before
        with psycopg.connect(fault_database_url) as blocker:
            # Every write waits for this lock: the database stops keeping up.
            blocker.execute("LOCK TABLE spans IN ACCESS EXCLUSIVE MODE")
            deadline = time.monotonic() + pick(5, 60)
            while time.monotonic() < deadline:
                rss_peak = max(rss_peak, rss_bytes(collector_pid))
                time.sleep(0.1)
            throttled_during = load.statuses["429"]
            backlog, _ = stream_lengths(fault_redis.url)
        load.join()
        counts = count_outcome(fault_database_url, load.batches, load.acknowledged, 100)
    finally:
        stack.stop()
    counts.retried = load.retries
    growth_mib = (rss_peak - rss_before) / 2**20
    record_fault(
        ledger,
        "slow database (spans table locked), stream bounded at 40 entries",
        load.description,
        counts,
        f"{throttled_during} answers 429 while locked; stream at {backlog} entries; "
        f"collector RSS {rss_before / 2**20:.0f} MiB -> peak {rss_peak / 2**20:.0f} MiB",
    )
    assert throttled_during > 0, "back-pressure reaches the clients as 429"
    assert backlog <= 41, "the stream stays within its bound (one entry per collector over)"
    assert growth_mib < 64, f"collector memory grew by {growth_mib:.0f} MiB"


def test_database_disk_full(
    fault_postgres: PostgresProcess,
    fault_database_url: str,
    fault_redis: RedisProcess,
    tmp_path: Path,
    ledger: Ledger,
) -> None:
    from tests.reliability.small_disk import database_on, fill, free_bytes, small_disk

    with (
        small_disk(pick(64, 512)) as mount_point,  # room for the full load's rows
        database_on(fault_postgres.url, fault_database_url, mount_point),
    ):
        stack = start_stack(fault_database_url, fault_redis.url, tmp_path)
        try:
            load = HttpLoad(stack.http_endpoint, pick(150, 1500), 100).start()
            wait_for(lambda: stored_total(fault_database_url) > 0, what="the first stored spans")
            # Opened before the disk fills: a new backend must write a relation cache file to
            # the database's directory, which a full disk refuses.
            with psycopg.connect(fault_database_url, autocommit=True) as watcher:
                filler = fill(mount_point)
                time.sleep(pick(3, 20))
                frozen = row_count(watcher)
                time.sleep(2.0)
                still = row_count(watcher)
            backlog, dead = stream_lengths(fault_redis.url)
            free_when_full = free_bytes(mount_point)
            filler.unlink()
            load.join()
            counts = count_outcome(fault_database_url, load.batches, load.acknowledged, 100)
            _, dead_after = stream_lengths(fault_redis.url)
        finally:
            stack.stop()
        log = (tmp_path / "storage.log").read_text()
    counts.retried = load.retries
    record_fault(
        ledger,
        f"database disk full (tablespace on a full {pick(64, 512)} MiB tmpfs), then freed",
        load.description,
        counts,
        f"{backlog} batches waited in the stream, none dead-lettered",
    )
    assert free_when_full == 0
    assert still == frozen, "writes stop while the disk is full"
    assert backlog > 0, "the batches wait in the stream"
    assert dead == dead_after == 0, "a full disk dead-letters nothing"
    assert "DiskFull" in log, "storage saw the database's disk-full error"


def test_control_redis_without_persistence_loses_what_it_held(
    fault_database_url: str, tmp_path: Path, ledger: Ledger
) -> None:
    """The same crash as above on a Redis that persists nothing: the acknowledged batches it
    held are gone. Storage recreates its consumer group, and what follows is stored again."""
    bare = RedisProcess(tmp_path / "bare-redis", ["--save", "", "--appendonly", "no"])
    bare.start()
    stack = start_stack(fault_database_url, bare.url, tmp_path)
    try:
        stack.storage.kill()
        load = HttpLoad(stack.http_endpoint, pick(100, 300), 100).start()
        wait_for(lambda: len(load.acknowledged) >= load.batches // 2, 60, "half the load acked")
        bare.kill()
        held = set(load.acknowledged)
        bare.start()
        stack.storage.start()
        load.join()
        after = load.acknowledged - held
        counts = count_outcome(fault_database_url, load.batches, after, 100)
        everything = count_outcome(fault_database_url, load.batches, load.acknowledged, 100, 2.0)
    finally:
        stack.stop()
        bare.stop()
    case = ledger.record(
        Case(
            CONTROL,
            "Redis without persistence killed with storage stopped",
            load.description,
            everything.as_dict(),
            "redis-server --save '' --appendonly no: every acknowledged batch "
            "still in the stream is lost; later batches are stored",
        )
    )
    assert after, "batches were acknowledged after the restart"
    assert counts.lost == 0, "what was acknowledged after the restart is stored"
    assert everything.lost > 0, "an un-persisted Redis loses the acknowledged batches it held"
    case.passed = True
