"""Millions of stored spans, fast: a few thousand generated traces go once through the
collector's real decoding and default pipeline and the storage row mapping; copies of their rows
(new ids, times spread over the last days, sessions of several turns, thousands of users) are
then written by the storage writer itself (COPY into staging, idempotent upsert, traces and the
rollups folded in the same transaction), so the API reads what production would have stored."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg

from deploy.devutils.workload import TraceFactory
from services.collector.metrics import CollectorMetrics
from services.collector.pipeline import build_pipeline
from services.collector.processors.registry import DEFAULT_STEPS, REGISTRY
from services.storage.partitions import PartitionWindow
from services.storage.rows import STAGING_COLUMNS, span_rows
from services.storage.writer import BatchWriter
from shared.handoff import decode_entry, encode_spans
from shared.otlp.traces import decode_export_request

Row = tuple[Any, ...]
PROJECT = "default"
TURNS_PER_SESSION = 6
TURN_SPACING_NS = 90 * 10**9
USERS = 3000
PROGRESS_SPANS = 100_000
_AT = {name: STAGING_COLUMNS.index(name) for name in (
    "trace_id", "span_id", "parent_span_id", "start_time_unix_nano", "end_time_unix_nano",
    "received_unix_nano", "session_id", "user_id")}  # fmt: skip


@dataclass(frozen=True)
class Template:
    """The staging rows of one processed trace, and its start."""

    rows: list[Row]
    start_ns: int


def build_templates(traces: int, seed: int) -> list[Template]:
    """`traces` generated traces through decode, the default pipeline and the row mapping."""
    CollectorMetrics()  # the llm_metrics step counts into the default registry
    steps = build_pipeline([s for s in DEFAULT_STEPS if s["type"] in REGISTRY], REGISTRY)
    now_ns = time.time_ns()
    by_trace: dict[str, list[Row]] = {}
    for request in TraceFactory(seed).requests(traces, now_ns, 10**6):
        spans = decode_export_request(request, PROJECT, now_ns).spans
        for step in steps:
            spans = step.processor(spans)
        for row in span_rows(decode_entry(encode_spans(PROJECT, spans)).records):
            by_trace.setdefault(row[_AT["trace_id"]], []).append(row)
    return [
        Template(rows, min(row[_AT["start_time_unix_nano"]] for row in rows))
        for rows in by_trace.values()
    ]


def trace_starts(
    spans: int, days: int, templates: list[Template], seed: int
) -> list[tuple[int, int, int]]:
    """(start ns, template index, session number) of enough traces for `spans` spans, sessions
    of TURNS_PER_SESSION turns starting uniformly over the last `days` days, in time order."""
    rng = random.Random(seed)
    mean_spans = sum(len(t.rows) for t in templates) / len(templates)
    traces = max(1, round(spans / mean_spans))
    end_ns = time.time_ns() - 600 * 10**9
    begin_ns = end_ns - days * 86_400 * 10**9
    starts = []
    for session in range(-(-traces // TURNS_PER_SESSION)):
        session_start = rng.randrange(begin_ns, end_ns - TURNS_PER_SESSION * TURN_SPACING_NS)
        for turn in range(TURNS_PER_SESSION):
            starts.append((session_start + turn * TURN_SPACING_NS,
                           rng.randrange(len(templates)), session))  # fmt: skip
    starts.sort()
    return starts[:traces]


def copy_trace(template: Template, start_ns: int, session: int, rng: random.Random) -> list[Row]:
    """The template's rows as a new trace: fresh ids, shifted times, this session and user."""
    trace_id = f"{rng.getrandbits(128):032x}"
    span_ids: dict[str, str] = {}
    shift = start_ns - template.start_ns
    rows = []
    for row in template.rows:
        copy = list(row)
        copy[_AT["trace_id"]] = trace_id
        copy[_AT["span_id"]] = span_ids.setdefault(
            row[_AT["span_id"]], f"{rng.getrandbits(64):016x}"
        )
        parent = row[_AT["parent_span_id"]]
        if parent is not None:
            copy[_AT["parent_span_id"]] = span_ids.setdefault(parent, f"{rng.getrandbits(64):016x}")
        for name in ("start_time_unix_nano", "end_time_unix_nano", "received_unix_nano"):
            copy[_AT[name]] = row[_AT[name]] + shift
        if row[_AT["session_id"]] is not None:
            copy[_AT["session_id"]] = f"sess-{session}"
        if row[_AT["user_id"]] is not None:
            copy[_AT["user_id"]] = f"user-{session % USERS}"
        rows.append(tuple(copy))
    return rows


def batches(
    spans: int, days: int, seed: int, batch_spans: int, templates: list[Template]
) -> Iterator[list[Row]]:
    """Rows of every copied trace, in time order, in batches of about `batch_spans`."""
    rng = random.Random(seed + 1)
    batch: list[Row] = []
    for start_ns, index, session in trace_starts(spans, days, templates, seed):
        batch.extend(copy_trace(templates[index], start_ns, session, rng))
        if len(batch) >= batch_spans:
            yield batch
            batch = []
    if batch:
        yield batch


async def seed(
    database_url: str, spans: int, days: int = 30, seed: int = 11, batch_spans: int = 5000,
    writers: int = 2, templates: int = 2000,
) -> tuple[int, float]:  # fmt: skip
    """Write about `spans` spans over the last `days` days with `writers` concurrent writers;
    return the spans inserted and the seconds it took (templates included)."""
    started = time.perf_counter()
    built = build_templates(templates, seed)
    print(f"templates: {len(built)} traces in {time.perf_counter() - started:.1f} s", flush=True)
    source = batches(spans, days, seed, batch_spans, built)
    writer = BatchWriter(PartitionWindow(lookback_days=days + 2, ahead_days=3))
    inserted = 0

    async def write() -> None:
        nonlocal inserted
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            for batch in source:  # the generator is shared: each batch goes to one writer
                count = await writer.write_spans(conn, batch)
                inserted += count  # after the await: the other writer adds in between
                if inserted // PROGRESS_SPANS != (inserted - count) // PROGRESS_SPANS:
                    elapsed = time.perf_counter() - started
                    print(f"seeded {inserted:,} spans in {elapsed:.0f} s", flush=True)
                await asyncio.sleep(0)

    await asyncio.gather(*(write() for _ in range(writers)))
    return inserted, time.perf_counter() - started
