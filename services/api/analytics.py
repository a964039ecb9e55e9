"""Usage and latency aggregates of LLM calls: which relation answers (by interval, range and
grouping), and the query that reads it.

The storage rollups (ADR 0005: usage_1m/1h/1d, latency_hist_1m/1h/1d, on TimescaleDB and plain
PostgreSQL alike) answer every range; only a grouping or filter by user, which they do not keep,
reads raw spans, and then ranges wider than API_MAX_RAW_RANGE_DAYS are refused (422).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.api.context import CONFIG
from services.api.queries import composed
from services.api.reads import fetch_rows
from services.api.spec import Call, Param
from services.api.timerange import STEPS, QueryTooWideError, check_raw_range

MAX_ROWS = 10_000
ENVIRONMENT = (
    "coalesce(s.resource_attributes ->> 'deployment.environment.name', "
    "s.resource_attributes ->> 'deployment.environment', '')"
)
# Group keys and their SQL over raw spans; "" stands for absent, as in the rollups.
RAW_DIMENSIONS = {
    "provider": "coalesce(s.provider, '')",
    "model": "coalesce(s.request_model, s.response_model, '')",
    "operation": "coalesce(s.operation, '')",
    "service": "s.service_name",
    "environment": ENVIRONMENT,
    "user": "coalesce(s.user_id, '')",
    "project": "s.project_id",
}
GROUP_KEYS = tuple(RAW_DIMENSIONS)
FILTER_KEYS = ("provider", "model", "operation", "service", "environment", "user")
RAW_FILTERS = " ".join(
    f"AND (%({key})s::text IS NULL OR {RAW_DIMENSIONS[key]} = %({key})s::text)"
    for key in FILTER_KEYS
)

INTERVAL = Param("interval", "enum", "Bucket width.", default="1h", choices=tuple(STEPS))
GROUP_BY = Param(
    "group_by", "enum", "Group rows by these keys (repeat the parameter).",
    choices=GROUP_KEYS, is_multiple=True,
)  # fmt: skip
FILTERS = tuple(Param(key, "string", f"Only calls whose {key} is this.") for key in FILTER_KEYS)


ROLLUP_DIMENSIONS = {
    "provider": "r.provider",
    "model": "r.model",
    "operation": "r.operation",
    "service": "r.service_name",
    "environment": "r.environment",
    "project": "r.project_id",
}
ROLLUP_FILTERS = " ".join(
    f"AND (%({key})s::text IS NULL OR {ROLLUP_DIMENSIONS[key]} = %({key})s::text)"
    for key in FILTER_KEYS
    if key in ROLLUP_DIMENSIONS
)


@dataclass(frozen=True, slots=True)
class Window:
    """A range of whole buckets; `interval` None asks for one total over the range."""

    start: datetime
    end: datetime
    interval: str | None


def choose_source(window: Window, group_by: tuple[str, ...], filters: dict[str, Any]) -> str:
    """The relation that answers: the rollup level of the interval (the whole range tiled by
    days, hours and minutes for a total), or raw spans when grouping or filtering by user,
    which the rollups do not keep."""
    if "user" in group_by or filters.get("user") is not None:
        return "spans"
    return "rollup_tiles" if window.interval is None else f"rollup_{window.interval}"


async def usage(
    call: Call, window: Window, group_by: tuple[str, ...]
) -> tuple[str, list[dict[str, Any]]]:
    """Requests, errors, tokens by kind and cost per bucket and group; and the source used."""
    return await _aggregate(call, "usage", window, group_by)


async def latency(
    call: Call, window: Window, group_by: tuple[str, ...]
) -> tuple[str, list[dict[str, Any]]]:
    """p50/p95/p99 of duration and time to first token per bucket and group; and the source."""
    source, rows = await _aggregate(call, "latency", window, group_by)
    if source != "spans":
        rows = _pivot_metrics(rows, group_by)
    return source, rows


async def _aggregate(
    call: Call, measure: str, window: Window, group_by: tuple[str, ...]
) -> tuple[str, list[dict[str, Any]]]:
    params: dict[str, Any] = {key: call.args.get(key) for key in FILTER_KEYS}
    source = choose_source(window, group_by, params)
    if source == "spans":
        max_days = call.request.app[CONFIG].max_raw_range_days
        check_raw_range(window.start, window.end, max_days, f"this {measure} query")
    params.update(
        project_id=call.project_id, limit=MAX_ROWS + 1, **{"from": window.start, "to": window.end}
    )
    rows = await fetch_rows(call, _query(measure, source, window, group_by), params)
    if len(rows) > MAX_ROWS:
        raise QueryTooWideError(
            f"the answer has more than {MAX_ROWS} rows: use a coarser interval, fewer group_by "
            "keys or a narrower range"
        )
    return source, rows


def _query(measure: str, source: str, window: Window, group_by: tuple[str, ...]) -> Any:
    """The SQL of an aggregate, composed from constants only."""
    # By position: a name would be read as the rollup's own bucket_start column, not the alias.
    grouping = ", ".join(str(position) for position in range(1, len(group_by) + 2))
    if source == "spans":
        bucket = (
            "%(from)s::timestamptz"
            if window.interval is None
            else f"date_bin('{_SQL_STEPS[window.interval]}', s.start_time, 'epoch')"
        )
        # Quoted: `user` alone would be the SQL keyword.
        dimensions = "".join(f'{RAW_DIMENSIONS[key]} AS "{key}", ' for key in group_by)
        return composed(
            f"{measure}_spans", bucket=bucket, dimensions=dimensions, grouping=grouping,
            filters=RAW_FILTERS,
        )  # fmt: skip
    table = "usage" if measure == "usage" else "latency_hist"
    level = source.removeprefix("rollup_")
    return composed(
        f"{measure}_rollup", level=level, relation=_relation(table, level),
        bucket="%(from)s::timestamptz" if window.interval is None else "r.bucket_start",
        dimensions="".join(f'{ROLLUP_DIMENSIONS[key]} AS "{key}", ' for key in group_by),
        filters=ROLLUP_FILTERS, grouping=grouping,
        group_columns=", ".join(["bucket_start", *(f'"{key}"' for key in group_by)]),
    )  # fmt: skip


def _relation(table: str, level: str) -> str:
    """Rows of one level in the range, or of the tiles (days, hours, minutes) covering it."""
    if level != "tiles":
        return (
            f"(SELECT * FROM {table}_{level} WHERE project_id = %(project_id)s "
            "AND bucket_start >= %(from)s AND bucket_start < %(to)s) AS r"
        )
    parts = " UNION ALL ".join(
        f"SELECT * FROM {table}_{tile} WHERE t.level = '{tile}' "
        "AND project_id = %(project_id)s "
        "AND bucket_start >= t.tile_start AND bucket_start < t.tile_end"
        for tile in ("1m", "1h", "1d")
    )
    return f"rollup_tiles(%(from)s, %(to)s) AS t CROSS JOIN LATERAL ({parts}) AS r"


def _pivot_metrics(rows: list[dict[str, Any]], group_by: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows per (bucket, group, metric) of histogram quantiles, as one row per bucket and group."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["bucket_start"], *(row[name] for name in group_by))
        item = merged.setdefault(key, {
            "bucket_start": row["bucket_start"], **{name: row[name] for name in group_by},
            "requests": 0, "ttft_count": 0,
            **{f"{m}_p{q}_ms": None for m in ("duration", "ttft") for q in (50, 95, 99)},
        })  # fmt: skip
        metric = row["metric"]
        item["requests" if metric == "duration" else "ttft_count"] = row["count"]
        for q, value in zip((50, 95, 99), row["quantiles"] or (), strict=False):
            item[f"{metric}_p{q}_ms"] = value
    return list(merged.values())


_SQL_STEPS = {"1m": "1 minute", "1h": "1 hour", "1d": "1 day"}
