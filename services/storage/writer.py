"""Writes a micro-batch: each kind of row COPYed into a staging table, then one idempotent insert
per table, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from services.storage import log_records, metric_points
from services.storage.backend import Backend, detect_backend
from services.storage.columns import NANOS_TO_TIMESTAMP
from services.storage.partitions import PartitionWindow, day_of_nanos, ensure_partitions
from services.storage.rollups import CAPTURE_NEW_CALLS, CREATE_NEW_CALLS, ORIGIN, fold_new_calls
from services.storage.rows import STAGING_COLUMNS
from services.storage.trace_counts import COUNT_TRACES, MOVED_TRACES, RECORD_MOVES

Row = tuple[Any, ...]

_CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS spans_staging (
    project_id text, trace_id text, span_id text, parent_span_id text, name text, kind smallint,
    start_time_unix_nano bigint, end_time_unix_nano bigint, received_unix_nano bigint,
    status_code smallint, status_message text, trace_state text, flags bigint,
    service_name text, attributes jsonb, events jsonb, links jsonb,
    dropped_attributes_count integer, dropped_events_count integer, dropped_links_count integer,
    resource_attributes jsonb, resource_schema_url text, scope_name text, scope_version text,
    scope_attributes jsonb, sample_weight numeric,
    llm_convention text, llm_span_type text, llm_is_counted boolean, provider text,
    provider_raw text, operation text, request_model text, response_model text, response_id text,
    input_tokens bigint, output_tokens bigint, total_tokens bigint, cache_read_tokens bigint,
    cache_write_tokens bigint, reasoning_tokens bigint, input_tokens_provider_raw bigint,
    usage_source text, cost_usd numeric, input_cost_usd numeric, output_cost_usd numeric,
    cache_read_cost_usd numeric, cache_write_cost_usd numeric, reported_cost_usd numeric,
    price_source text, price_model text, price_version text,
    finish_reasons text[], finish_reasons_raw text[], time_to_first_token_ms double precision,
    is_streaming boolean, session_id text, user_id text, tags text[], system_instructions jsonb,
    input_messages jsonb, output_messages jsonb, tool_calls jsonb, tool_definitions jsonb,
    is_error boolean, error_type text, error_message text, llm_field_sources jsonb
) ON COMMIT DELETE ROWS
"""

_COPY = f"COPY spans_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN"

_PASSTHROUGH = [c for c in STAGING_COLUMNS if not c.endswith("_unix_nano")]

# Insert spans not yet stored (a redelivered batch inserts nothing), then fold exactly the rows
# inserted now into their traces (and, on plain PostgreSQL, capture them for the rollups), and
# count the traces created or moved in their hours (trace_counts.py).
# Ordering by trace keeps lock order stable across consumers.
_UPSERT_TEMPLATE = f"""
WITH inserted AS (
    INSERT INTO spans ({", ".join(_PASSTHROUGH)}, start_time, end_time, start_time_unix_nano,
                       end_time_unix_nano, duration_ms, received_at)
    SELECT DISTINCT ON (project_id, trace_id, span_id, start_time_unix_nano)
           {", ".join(_PASSTHROUGH)},
           {NANOS_TO_TIMESTAMP.format("start_time_unix_nano")},
           {NANOS_TO_TIMESTAMP.format("greatest(end_time_unix_nano, start_time_unix_nano)")},
           start_time_unix_nano, end_time_unix_nano,
           greatest(end_time_unix_nano - start_time_unix_nano, 0) / 1e6,
           {NANOS_TO_TIMESTAMP.format("received_unix_nano")}
    FROM spans_staging
    ORDER BY project_id, trace_id, span_id, start_time_unix_nano
    ON CONFLICT (project_id, trace_id, span_id, start_time) DO NOTHING
    RETURNING project_id, trace_id, span_id, parent_span_id, name, service_name, start_time,
              end_time, status_code, llm_is_counted, llm_convention, input_tokens,
              output_tokens, cost_usd,
              session_id, user_id, provider, request_model, response_model, operation,
              span_environment(resource_attributes) AS environment, is_error, duration_ms,
              time_to_first_token_ms,
              cache_read_tokens, cache_write_tokens, reasoning_tokens, sample_weight
),{{capture}} folded AS (
INSERT INTO traces AS t (project_id, trace_id, start_time, end_time, root_span_id, root_name,
                         service_name, span_count, error_count, llm_call_count, input_tokens,
                         output_tokens, cost_usd, session_id, user_id, counted_hour)
SELECT project_id, trace_id, min(start_time), max(end_time),
       (array_agg(span_id) FILTER (WHERE parent_span_id IS NULL))[1],
       (array_agg(name) FILTER (WHERE parent_span_id IS NULL))[1],
       coalesce((array_agg(service_name) FILTER (WHERE parent_span_id IS NULL))[1],
                min(service_name)),
       count(*), count(*) FILTER (WHERE status_code = 2),
       count(*) FILTER (WHERE llm_is_counted),
       coalesce(sum(input_tokens) FILTER (WHERE llm_is_counted), 0),
       coalesce(sum(output_tokens) FILTER (WHERE llm_is_counted), 0),
       coalesce(sum(cost_usd) FILTER (WHERE llm_is_counted), 0),
       min(session_id), min(user_id), date_bin('1 hour', min(start_time), {ORIGIN})
FROM inserted
GROUP BY project_id, trace_id
ORDER BY project_id, trace_id
ON CONFLICT (project_id, trace_id) DO UPDATE SET
    start_time = least(t.start_time, excluded.start_time),
    end_time = greatest(t.end_time, excluded.end_time),
    root_span_id = coalesce(excluded.root_span_id, t.root_span_id),
    root_name = coalesce(excluded.root_name, t.root_name),
    service_name = CASE WHEN excluded.root_span_id IS NOT NULL THEN excluded.service_name
                        ELSE t.service_name END,
    span_count = t.span_count + excluded.span_count,
    error_count = t.error_count + excluded.error_count,
    llm_call_count = t.llm_call_count + excluded.llm_call_count,
    input_tokens = t.input_tokens + excluded.input_tokens,
    output_tokens = t.output_tokens + excluded.output_tokens,
    cost_usd = t.cost_usd + excluded.cost_usd,
    session_id = coalesce(t.session_id, excluded.session_id),
    user_id = coalesce(t.user_id, excluded.user_id),
    updated_at = now()
RETURNING project_id, trace_id, session_id IS NOT NULL OR user_id IS NOT NULL AS has_identity,
          xmax = 0 AS is_created, counted_hour,
          date_bin('1 hour', start_time, {ORIGIN}) AS start_hour
),{COUNT_TRACES}
SELECT (SELECT count(*) FROM inserted),
       (SELECT coalesce(json_agg(json_build_array(project_id, trace_id, is_lacking, brings)), '[]')
        FROM ({{backfill}}) c),
       ({MOVED_TRACES.strip()})
"""


# Session and user stated once for a trace (often only on its root) reach every LLM call of the
# trace, whichever request brought the call or the root; only NULLs are filled (idempotent).
# First the staged calls take what their trace row or their batch siblings state. The query
# returns the traces that lacked an identity in this statement's view: if the batch brings one,
# calls stored earlier may need it (see _BACKFILL_CANDIDATES).
_FILL_STAGED_IDENTITY = """
WITH batch AS (
    SELECT project_id, trace_id, min(session_id) AS session_id, min(user_id) AS user_id
    FROM spans_staging GROUP BY project_id, trace_id
), known AS (
    SELECT b.project_id, b.trace_id, coalesce(t.session_id, b.session_id) AS session_id,
           coalesce(t.user_id, b.user_id) AS user_id,
           t.trace_id IS NULL OR t.session_id IS NULL OR t.user_id IS NULL AS is_lacking
    FROM batch b LEFT JOIN traces t USING (project_id, trace_id)
), filled AS (
    UPDATE spans_staging s
    SET session_id = coalesce(s.session_id, k.session_id), user_id = coalesce(s.user_id, k.user_id)
    FROM known k
    WHERE s.project_id = k.project_id AND s.trace_id = k.trace_id
      AND s.llm_convention IS NOT NULL
      AND ((s.session_id IS NULL AND k.session_id IS NOT NULL)
           OR (s.user_id IS NULL AND k.user_id IS NOT NULL))
    RETURNING 1
)
SELECT project_id, trace_id FROM known WHERE is_lacking
"""

# After the upsert (which waited for every concurrent writer of these traces), the traces whose
# stored calls may lack the identity their row now has: those where this batch inserted calls
# still lacking it (a concurrent writer set it after the fill above read the row), and those,
# not created by this statement, to which this batch brought an identity.
_BACKFILL_CANDIDATES = """
SELECT f.project_id, f.trace_id, i.is_lacking, i.brings_identity AND NOT f.is_created AS brings
FROM folded f
JOIN (SELECT project_id, trace_id,
             bool_or(session_id IS NOT NULL OR user_id IS NOT NULL) AS brings_identity,
             bool_or(llm_convention IS NOT NULL AND (session_id IS NULL OR user_id IS NULL))
                 AS is_lacking
      FROM inserted GROUP BY project_id, trace_id) i USING (project_id, trace_id)
WHERE f.has_identity
"""

# The time bounds of those traces come first, as constants: the update then touches (and locks)
# only the partitions of those days, so attaching a partition does not wait for writers.
_BACKFILL_IDENTITY = """
WITH wanted AS (
    SELECT t.* FROM traces t
    JOIN unnest(%(projects)s::text[], %(traces)s::text[]) AS w (project_id, trace_id)
      USING (project_id, trace_id)
)
UPDATE spans s
SET session_id = coalesce(s.session_id, t.session_id),
    user_id = coalesce(s.user_id, t.user_id)
FROM wanted t
WHERE s.project_id = t.project_id AND s.trace_id = t.trace_id
  AND s.start_time BETWEEN t.start_time AND t.end_time
  AND s.start_time BETWEEN %(lo)s AND %(hi)s
  AND s.llm_convention IS NOT NULL
  AND ((s.session_id IS NULL AND t.session_id IS NOT NULL)
       OR (s.user_id IS NULL AND t.user_id IS NOT NULL))
"""
_BACKFILL_BOUNDS = """
SELECT min(start_time), max(end_time) FROM traces
JOIN unnest(%(projects)s::text[], %(traces)s::text[]) AS w (project_id, trace_id)
  USING (project_id, trace_id)
"""

_UPSERT = {
    backend: _UPSERT_TEMPLATE.replace("{capture}", capture).replace(
        "{backfill}", _BACKFILL_CANDIDATES.strip()
    )
    for backend, capture in ((Backend.TIMESCALE, ""), (Backend.POSTGRES, CAPTURE_NEW_CALLS + ","))
}


@dataclass(frozen=True, slots=True)
class BatchRows:
    """The staging rows of one micro-batch, by table."""

    spans: Sequence[Row] = ()
    metric_points: Sequence[Row] = ()
    log_records: Sequence[Row] = ()


@dataclass(frozen=True, slots=True)
class Written:
    """How many rows of each table a batch newly stored (redelivered rows count zero)."""

    spans: int = 0
    metric_points: int = 0
    log_records: int = 0


async def write_batch(
    conn: psycopg.AsyncConnection[Any], rows: BatchRows, backend: Backend | None = None
) -> Written:
    """Write every kind of row in one transaction; return how many of each were new.

    On plain PostgreSQL the spans' partitions should exist (else rows land in the default one)
    and the new LLM calls are folded into the rollup tables before the commit.
    """
    if backend is None:
        backend = await detect_backend(conn)
    async with conn.transaction(), conn.cursor() as cursor:
        spans = await _write_spans(cursor, rows.spans, backend) if rows.spans else 0
        points = await _insert_staged(
            cursor, rows.metric_points, metric_points.CREATE_STAGING, metric_points.COPY,
            metric_points.INSERT,
        )  # fmt: skip
        logs = await _insert_staged(
            cursor, rows.log_records, log_records.CREATE_STAGING, log_records.COPY,
            log_records.INSERT,
        )  # fmt: skip
    return Written(spans, points, logs)


async def write_spans(
    conn: psycopg.AsyncConnection[Any], rows: Sequence[Row], backend: Backend | None = None
) -> int:
    """Write span rows in one transaction; return how many spans were new."""
    return (await write_batch(conn, BatchRows(spans=rows), backend)).spans


async def _write_spans(
    cursor: psycopg.AsyncCursor[Any], rows: Sequence[Row], backend: Backend
) -> int:
    if backend.keeps_rollups:
        await cursor.execute(CREATE_NEW_CALLS)
    await _stage(cursor, rows, _CREATE_STAGING, _COPY)
    await cursor.execute(_FILL_STAGED_IDENTITY)
    lacking = {(project, trace) for project, trace in await cursor.fetchall()}
    await cursor.execute(_UPSERT[backend])
    row = await cursor.fetchone()
    counted, candidates, moved = row if row else (0, [], [])
    if moved:  # counted in the hour they start in now (trace_counts.py)
        await cursor.execute(
            RECORD_MOVES, {"projects": [p for p, _ in moved], "traces": [t for _, t in moved]}
        )
    backfill = [
        (project, trace)
        for project, trace, has_lacking_calls, brings_identity in candidates
        if has_lacking_calls or (brings_identity and (project, trace) in lacking)
    ]
    if backfill:
        await _backfill_identity(cursor, backfill)
    if backend.keeps_rollups:
        await fold_new_calls(cursor)
    return int(counted)


async def _backfill_identity(
    cursor: psycopg.AsyncCursor[Any], traces: Sequence[tuple[str, str]]
) -> None:
    """Give the LLM calls stored earlier for these traces the identity their rows now hold."""
    keys = {"projects": [p for p, _ in traces], "traces": [t for _, t in traces]}
    await cursor.execute(_BACKFILL_BOUNDS, keys)
    bounds = await cursor.fetchone()
    if bounds and bounds[0] is not None:
        await cursor.execute(_BACKFILL_IDENTITY, {**keys, "lo": bounds[0], "hi": bounds[1]})


async def _insert_staged(
    cursor: psycopg.AsyncCursor[Any], rows: Sequence[Row], create_staging: str, copy_sql: str,
    insert_sql: str,
) -> int:  # fmt: skip
    """COPY rows into their staging table and insert the new ones; return how many were new."""
    if not rows:
        return 0
    await _stage(cursor, rows, create_staging, copy_sql)
    await cursor.execute(insert_sql)
    return max(cursor.rowcount, 0)


async def _stage(
    cursor: psycopg.AsyncCursor[Any], rows: Sequence[Row], create_staging: str, copy_sql: str
) -> None:
    """COPY the rows into a session-local staging table emptied at commit."""
    await cursor.execute(create_staging)
    async with cursor.copy(copy_sql) as copy:
        for row in rows:
            await copy.write_row(row)


_START = STAGING_COLUMNS.index("start_time_unix_nano")


class BatchWriter:
    """Writes batches on whichever storage path the database took (asked on the first write);
    on plain PostgreSQL creates the partitions of a batch's span days first."""

    def __init__(self, window: PartitionWindow) -> None:
        self._window = window
        self._backend: Backend | None = None
        self._known_days: set[dt.date] = set()

    async def write(self, conn: psycopg.AsyncConnection[Any], rows: BatchRows) -> Written:
        """Write the rows in one transaction; return how many of each kind were new."""
        if self._backend is None:
            self._backend = await detect_backend(conn)
        if self._backend.keeps_partitions and rows.spans:
            await self._ensure_partitions(conn, rows.spans)
        return await write_batch(conn, rows, self._backend)

    async def write_spans(self, conn: psycopg.AsyncConnection[Any], rows: Sequence[Row]) -> int:
        """Write span rows alone; return how many were new."""
        return (await self.write(conn, BatchRows(spans=rows))).spans

    async def _ensure_partitions(
        self, conn: psycopg.AsyncConnection[Any], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        today = dt.datetime.now(dt.UTC).date()
        self._known_days = {day for day in self._known_days if self._window.covers(day, today)}
        days = {day_of_nanos(row[_START]) for row in rows} - self._known_days
        wanted = {day for day in days if self._window.covers(day, today)}
        if wanted:
            await ensure_partitions(conn, wanted)
            self._known_days |= wanted
