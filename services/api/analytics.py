"""Usage and latency aggregates of LLM calls: which table answers (by interval, range and
grouping), and the query that reads it.

Until the storage rollups land, every aggregate is computed from raw spans, and ranges wider
than API_MAX_RAW_RANGE_DAYS are refused; the rollup seam is `choose_source`.
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


@dataclass(frozen=True, slots=True)
class Window:
    """A range of whole buckets; `interval` None asks for one total over the range."""

    start: datetime
    end: datetime
    interval: str | None


def choose_source(window: Window, group_by: tuple[str, ...]) -> str:
    """The table that answers: raw spans until the storage rollups exist."""
    del group_by  # every grouping is answerable from raw spans
    del window
    return "spans"


async def usage(
    call: Call, window: Window, group_by: tuple[str, ...]
) -> tuple[str, list[dict[str, Any]]]:
    """Requests, errors, tokens by kind and cost per bucket and group; and the source used."""
    return await _aggregate(call, "usage", window, group_by)


async def latency(
    call: Call, window: Window, group_by: tuple[str, ...]
) -> tuple[str, list[dict[str, Any]]]:
    """p50/p95/p99 of duration and time to first token per bucket and group; and the source."""
    return await _aggregate(call, "latency", window, group_by)


async def _aggregate(
    call: Call, measure: str, window: Window, group_by: tuple[str, ...]
) -> tuple[str, list[dict[str, Any]]]:
    source = choose_source(window, group_by)
    max_days = call.request.app[CONFIG].max_raw_range_days
    check_raw_range(window.start, window.end, max_days, f"this {measure} query")
    bucket = (
        "%(from)s::timestamptz"
        if window.interval is None
        else f"date_bin('{_SQL_STEPS[window.interval]}', s.start_time, 'epoch')"
    )
    # Quoted: `user` alone would be the SQL keyword.
    dimensions = "".join(f'{RAW_DIMENSIONS[key]} AS "{key}", ' for key in group_by)
    grouping = ", ".join(["bucket_start", *(f'"{key}"' for key in group_by)])
    query = composed(
        f"{measure}_spans", bucket=bucket, dimensions=dimensions, grouping=grouping,
        filters=RAW_FILTERS,
    )  # fmt: skip
    params: dict[str, Any] = {key: call.args.get(key) for key in FILTER_KEYS}
    params.update(
        project_id=call.project_id, limit=MAX_ROWS + 1, **{"from": window.start, "to": window.end}
    )
    rows = await fetch_rows(call, query, params)
    if len(rows) > MAX_ROWS:
        raise QueryTooWideError(
            f"the answer has more than {MAX_ROWS} rows: use a coarser interval, fewer group_by "
            "keys or a narrower range"
        )
    return source, rows


_SQL_STEPS = {"1m": "1 minute", "1h": "1 hour", "1d": "1 day"}
