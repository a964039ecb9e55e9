"""Re-pricing against the database: read a project's calls in a window, price them again, and
either report (dry run) or apply the new costs to spans, traces and rollups; audit every run.

Safe beside ingestion (docs/adr/0009-repricing-and-sampling-weights.md): runs of one project
are serialised by an advisory lock; costs change only here, so the costs read are those the
update replaces. Traces and plain-PostgreSQL rollups receive the change of cost as increments,
like the writer's folds, so a batch folded meanwhile adds on top; rows are locked in the
writer's order (traces, then rollup rows by key). On TimescaleDB the continuous aggregates are
refreshed over the window's days after the commit: an idempotent step that a repeated request
completes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.storage.backend import Backend, detect_backend
from services.storage.repricing import Repricing, reprice_calls
from services.storage.rollups import ORIGIN
from shared.errors import BadInputError, NotFoundError, ObservatoryError
from shared.pricing import GENAI_PRICES_VERSION, PriceOverride, build_resolver

# pg_advisory_xact_lock(class, hashtext(project_id)): one run per project at a time.
_LOCK_CLASS = 0x5250
_FETCH_ROWS = 5000
_LEVELS = {"1m": "1 minute", "1h": "1 hour", "1d": "1 day"}
_DAY = dt.timedelta(days=1)


class RepricingConflictError(ObservatoryError):
    """Spans of the window vanished while they were re-priced (retention); retry (HTTP 409)."""


@dataclass(frozen=True, slots=True)
class RepricingRequest:
    """One request: the project, the window [start, end), and whether to apply."""

    project_id: str
    start: dt.datetime
    end: dt.datetime
    is_dry_run: bool
    requested_by: str
    reason: str = ""


_PROJECT_EXISTS = "SELECT 1 FROM projects WHERE project_id = %s"
_OVERRIDES = """
SELECT override_id, model, match, provider, input_usd_per_million_tokens,
       output_usd_per_million_tokens, cache_read_usd_per_million_tokens,
       cache_write_usd_per_million_tokens, version, created_at
FROM model_price_overrides WHERE project_id = %s ORDER BY override_id
"""
_ROLLUP_1M_DAYS = """
SELECT retention_days FROM project_retention WHERE project_id = %s AND data_class = 'rollup_1m'
"""
SELECT_CALLS = """
SELECT trace_id, span_id, start_time, provider, request_model, response_model, usage_source,
       input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
       cost_usd, input_cost_usd, output_cost_usd, cache_read_cost_usd, cache_write_cost_usd,
       price_source, price_model, price_version,
       coalesce(provider, ''), coalesce(request_model, response_model, ''),
       coalesce(operation, ''), service_name, span_environment(resource_attributes),
       sample_weight
FROM spans
WHERE project_id = %(project_id)s AND start_time >= %(start)s AND start_time < %(end)s
  AND llm_is_counted
"""
_DECLARE_CALLS = "DECLARE repricing_calls NO SCROLL CURSOR FOR " + SELECT_CALLS
_FETCH_CALLS = f"FETCH {_FETCH_ROWS} FROM repricing_calls"
STAGE_COLUMNS = (
    "trace_id", "span_id", "start_time", "cost_usd", "input_cost_usd", "output_cost_usd",
    "cache_read_cost_usd", "cache_write_cost_usd", "price_source", "price_model",
    "price_version", "cost_delta", "unpriced_delta", "provider", "model", "operation",
    "service_name", "environment", "sample_weight",
)  # fmt: skip
_CREATE_STAGE = """
CREATE TEMP TABLE repriced_spans (
    trace_id text, span_id text, start_time timestamptz, cost_usd numeric,
    input_cost_usd numeric, output_cost_usd numeric, cache_read_cost_usd numeric,
    cache_write_cost_usd numeric, price_source text, price_model text, price_version text,
    cost_delta numeric, unpriced_delta integer, provider text, model text, operation text,
    service_name text, environment text, sample_weight numeric
) ON COMMIT DROP
"""
_COPY_STAGE = f"COPY repriced_spans ({', '.join(STAGE_COLUMNS)}) FROM STDIN"
_LOCK_TRACES = """
SELECT 1 FROM traces
WHERE project_id = %(project_id)s AND trace_id IN (SELECT trace_id FROM repriced_spans)
ORDER BY trace_id FOR UPDATE
"""
_UPDATE_TRACES = """
UPDATE traces t SET cost_usd = t.cost_usd + d.cost_delta, updated_at = now()
FROM (SELECT trace_id, sum(cost_delta) AS cost_delta FROM repriced_spans GROUP BY trace_id) d
WHERE t.project_id = %(project_id)s AND t.trace_id = d.trace_id AND d.cost_delta <> 0
"""
_UPDATE_SPANS = """
UPDATE spans s
SET cost_usd = r.cost_usd, input_cost_usd = r.input_cost_usd,
    output_cost_usd = r.output_cost_usd, cache_read_cost_usd = r.cache_read_cost_usd,
    cache_write_cost_usd = r.cache_write_cost_usd, price_source = r.price_source,
    price_model = r.price_model, price_version = r.price_version
FROM repriced_spans r
WHERE s.project_id = %(project_id)s AND s.trace_id = r.trace_id AND s.span_id = r.span_id
  AND s.start_time = r.start_time AND s.start_time >= %(start)s AND s.start_time < %(end)s
"""
_ROLLUP_KEYS = "bucket_start, provider, model, operation, service_name, environment"
# The change of each rollup row: usage rows count stored calls; sampled_out rows what weighted
# calls stand for beyond themselves (migration 009), so they change by (weight - 1) times as much.
_USAGE_DELTAS = f"""
SELECT date_bin('{{width}}', start_time, {ORIGIN}) AS bucket_start, provider, model,
       operation, service_name, environment, sum(cost_delta) AS cost_delta,
       sum(unpriced_delta) AS unpriced_delta
FROM repriced_spans GROUP BY 1, 2, 3, 4, 5, 6
HAVING sum(cost_delta) <> 0 OR sum(unpriced_delta) <> 0
"""
_SAMPLED_OUT_DELTAS = f"""
SELECT date_bin('{{width}}', start_time, {ORIGIN}) AS bucket_start, provider, model,
       operation, service_name, environment, sum(cost_delta * (sample_weight - 1)) AS cost_delta
FROM repriced_spans WHERE sample_weight IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6
HAVING sum(cost_delta * (sample_weight - 1)) <> 0
"""
# Rollup rows are locked in key order, as the writer's folds lock them, then updated.
_LOCK_ROLLUP = f"""
SELECT 1 FROM {{relation}} u JOIN ({{deltas}}) d USING ({_ROLLUP_KEYS})
WHERE u.project_id = %(project_id)s ORDER BY {_ROLLUP_KEYS} FOR UPDATE OF u
"""
_UPDATE_ROLLUP = """
UPDATE {relation} u SET {changes}
FROM ({deltas}) d
WHERE u.project_id = %(project_id)s AND u.bucket_start = d.bucket_start
  AND u.provider = d.provider AND u.model = d.model AND u.operation = d.operation
  AND u.service_name = d.service_name AND u.environment = d.environment
"""
_ROLLUP_CHANGES = {
    "usage": (_USAGE_DELTAS, "cost_usd = u.cost_usd + d.cost_delta, "
              "unpriced_requests = u.unpriced_requests + d.unpriced_delta"),
    "sampled_out": (_SAMPLED_OUT_DELTAS, "cost_usd = u.cost_usd + d.cost_delta"),
}  # fmt: skip
_REFRESH = "CALL refresh_continuous_aggregate({}, {}::timestamptz, {}::timestamptz)"
_INSERT_RUN = """
INSERT INTO repricing_runs (project_id, window_start, window_end, requested_by, reason,
    is_dry_run, genai_prices_version, price_overrides, spans_examined, spans_changed,
    spans_newly_priced, spans_newly_unpriced, cost_before_usd, cost_after_usd, models,
    rollups_updated_at)
VALUES (%(project_id)s, %(start)s, %(end)s, %(requested_by)s, %(reason)s, %(is_dry_run)s,
        %(genai_prices_version)s, %(price_overrides)s, %(spans)s, %(spans_changed)s,
        %(newly_priced)s, %(newly_unpriced)s, %(cost_before_usd)s, %(cost_after_usd)s,
        %(models)s, CASE WHEN %(rollups_done)s THEN now() END)
RETURNING run_id
"""
_ROLLUPS_DONE = "UPDATE repricing_runs SET rollups_updated_at = now() WHERE run_id = %s"
RUN_COLUMNS = (
    "run_id", "project_id", "window_start", "window_end", "requested_by", "reason",
    "requested_at", "is_dry_run", "genai_prices_version", "price_overrides", "spans_examined",
    "spans_changed", "spans_newly_priced", "spans_newly_unpriced", "cost_before_usd",
    "cost_after_usd", "models", "rollups_updated_at",
)  # fmt: skip
_SELECT_RUNS = f"""
SELECT {", ".join(RUN_COLUMNS)} FROM repricing_runs
WHERE (%(project_id)s::text IS NULL OR project_id = %(project_id)s)
  AND (%(before)s::bigint IS NULL OR run_id < %(before)s)
  AND (%(run_id)s::bigint IS NULL OR run_id = %(run_id)s)
ORDER BY run_id DESC LIMIT %(count)s
"""


async def run_repricing(
    pool: AsyncConnectionPool[Any], request: RepricingRequest, rollup_1m_days: int
) -> dict[str, Any]:
    """Re-price the request's window (applying unless a dry run); return the audited run.

    On TimescaleDB the window's days must still be in the 1-minute rollups (`rollup_1m_days`,
    or the project's shorter setting), from which the coarser levels are refreshed.
    """
    async with pool.connection() as conn:
        backend = await detect_backend(conn)
        async with conn.transaction():
            found = await conn.execute(_PROJECT_EXISTS, (request.project_id,))
            if await found.fetchone() is None:
                raise NotFoundError(f"no project {request.project_id!r}")
            if backend is Backend.TIMESCALE:
                await _check_refreshable(conn, request, rollup_1m_days)
            if not request.is_dry_run:
                await conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                                   (_LOCK_CLASS, request.project_id))  # fmt: skip
            overrides, override_rows = await _read_overrides(conn, request.project_id)
            repricing = await _reprice_window(conn, request, overrides)
            if not request.is_dry_run and repricing.changed:
                await _apply(conn, request, repricing, backend)
            run_id = await _audit(conn, request, repricing, override_rows,
                                  rollups_done=not request.is_dry_run
                                  and backend is Backend.POSTGRES)  # fmt: skip
        if not request.is_dry_run and backend is Backend.TIMESCALE:
            await _refresh_usage(conn, request)
            await conn.execute(_ROLLUPS_DONE, (run_id,))
        (run,) = await list_runs(conn, run_id=run_id)
    return run


async def list_runs(
    conn: psycopg.AsyncConnection[Any], project_id: str | None = None,
    before: int | None = None, count: int = 100, run_id: int | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Audit entries, newest first (of one project, before a run id, or one run)."""
    params = {"project_id": project_id, "before": before, "count": count, "run_id": run_id}
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(_SELECT_RUNS, params)
        return [_run_json(row) for row in await cursor.fetchall()]


def _run_json(row: dict[str, Any]) -> dict[str, Any]:
    run = dict(row)
    for key in ("window_start", "window_end", "requested_at", "rollups_updated_at"):
        run[key] = None if run[key] is None else run[key].isoformat()
    for key in ("cost_before_usd", "cost_after_usd"):
        run[key] = str(run[key])
    run["delta_usd"] = str(row["cost_after_usd"] - row["cost_before_usd"])
    return run


async def _check_refreshable(
    conn: psycopg.AsyncConnection[Any], request: RepricingRequest, rollup_1m_days: int
) -> None:
    row = await (await conn.execute(_ROLLUP_1M_DAYS, (request.project_id,))).fetchone()
    days = min(rollup_1m_days, row[0]) if row else rollup_1m_days
    earliest = _floor_day(dt.datetime.now(dt.UTC)) - dt.timedelta(days=days - 1)
    if _floor_day(request.start) < earliest:
        raise BadInputError(
            f"on TimescaleDB the window must start on or after {earliest.isoformat()}: the "
            f"coarser rollups are refreshed from the 1-minute rollups, kept {days} days"
        )


async def _read_overrides(
    conn: psycopg.AsyncConnection[Any], project_id: str
) -> tuple[list[PriceOverride], list[dict[str, Any]]]:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(_OVERRIDES, (project_id,))
        rows = await cursor.fetchall()
    overrides = []
    for row in rows:
        fields = {k: v for k, v in row.items() if k not in ("override_id", "created_at")}
        try:
            overrides.append(PriceOverride(**fields))
        except ValueError as exc:
            raise BadInputError(f"price override {row['override_id']} is invalid: {exc}") from exc
    audit = [
        {**{k: str(v) if v is not None and k.endswith("_tokens") else v for k, v in row.items()},
         "created_at": row["created_at"].isoformat()}
        for row in rows
    ]  # fmt: skip
    return overrides, audit


async def _reprice_window(
    conn: psycopg.AsyncConnection[Any], request: RepricingRequest,
    overrides: Sequence[PriceOverride],
) -> Repricing:  # fmt: skip
    """Read the window's calls in chunks and price them again off the event loop."""
    resolve = build_resolver({request.project_id: tuple(overrides)})
    repricing = Repricing(request.project_id)
    params = {"project_id": request.project_id, "start": request.start, "end": request.end}
    # A cursor declared in SQL rather than psycopg's named cursor, which needs the protocol's
    # portal description (not every server speaking the protocol has it).
    await conn.execute(_DECLARE_CALLS, params)
    while rows := await (await conn.execute(_FETCH_CALLS)).fetchall():
        await asyncio.to_thread(reprice_calls, repricing, rows, resolve)
    await conn.execute("CLOSE repricing_calls")
    return repricing


async def _apply(
    conn: psycopg.AsyncConnection[Any], request: RepricingRequest, repricing: Repricing,
    backend: Backend,
) -> None:  # fmt: skip
    params = {"project_id": request.project_id, "start": request.start, "end": request.end}
    async with conn.cursor() as cursor:
        await cursor.execute(_CREATE_STAGE)
        async with cursor.copy(_COPY_STAGE) as copy:
            for row in repricing.changed:
                await copy.write_row(row)
        await cursor.execute(_LOCK_TRACES, params)
        await cursor.execute(_UPDATE_TRACES, params)
        await cursor.execute(_UPDATE_SPANS, params)
        if cursor.rowcount != len(repricing.changed):
            raise RepricingConflictError(
                f"{len(repricing.changed) - cursor.rowcount} spans of the window were deleted "
                "while being re-priced (retention); nothing was changed, retry"
            )
        if backend.keeps_rollups:
            for kind, (deltas, changes) in _ROLLUP_CHANGES.items():
                for level, width in _LEVELS.items():
                    names = {"relation": f"{kind}_{level}", "deltas": deltas.format(width=width),
                             "changes": changes}  # fmt: skip
                    await cursor.execute(_LOCK_ROLLUP.format(**names), params)
                    await cursor.execute(_UPDATE_ROLLUP.format(**names), params)


async def _refresh_usage(conn: psycopg.AsyncConnection[Any], request: RepricingRequest) -> None:
    """Refresh usage_* and sampled_out_* (1m, 1h, 1d in order) over the window's whole days,
    outside a transaction; only invalidated buckets are computed again, so wide is cheap."""
    low = _floor_day(request.start)
    high = _floor_day(request.end - dt.timedelta(microseconds=1)) + _DAY
    for kind in _ROLLUP_CHANGES:
        for level in _LEVELS:
            statement = sql.SQL(_REFRESH).format(
                sql.Literal(f"{kind}_{level}"), sql.Literal(low), sql.Literal(high)
            )
            await conn.execute(statement)


async def _audit(
    conn: psycopg.AsyncConnection[Any], request: RepricingRequest, repricing: Repricing,
    override_rows: list[dict[str, Any]], *, rollups_done: bool,
) -> int:  # fmt: skip
    total = repricing.total()
    row = await (await conn.execute(_INSERT_RUN, {
        "project_id": request.project_id, "start": request.start, "end": request.end,
        "requested_by": request.requested_by, "reason": request.reason,
        "is_dry_run": request.is_dry_run, "genai_prices_version": GENAI_PRICES_VERSION,
        "price_overrides": Jsonb(override_rows, dumps=_json_text),
        "spans": total.spans, "spans_changed": total.spans_changed,
        "newly_priced": total.newly_priced, "newly_unpriced": total.newly_unpriced,
        "cost_before_usd": total.cost_before_usd, "cost_after_usd": total.cost_after_usd,
        "models": Jsonb(repricing.model_list(), dumps=_json_text), "rollups_done": rollups_done,
    })).fetchone()  # fmt: skip
    assert row is not None  # INSERT ... RETURNING returns its row
    return int(row[0])


def _json_text(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _floor_day(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
