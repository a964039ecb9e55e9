"""Dashboard 4, Errors: failed LLM calls by type, model and provider, over time, and the latest."""

from __future__ import annotations

from deploy.grafana.llm_sql import CALLS, IS_ERROR, MODEL, PROVIDER, VARIABLES
from deploy.grafana.panels import Column, Json, dashboard, sql_panel

ERROR_TYPE = "coalesce(error_type, 'unknown')"
FAILED = f"{CALLS}\n  AND {IS_ERROR}"

BY_TYPE_OVER_TIME = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       {ERROR_TYPE} AS metric,
       count(*) AS errors
FROM {FAILED}
GROUP BY 1, 2 ORDER BY 1
"""

RATE_BY_PROVIDER = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       {PROVIDER} AS metric,
       count(*) FILTER (WHERE {IS_ERROR})::float8 / count(*) AS error_rate
FROM {CALLS}
GROUP BY 1, 2 ORDER BY 1
"""


def _by(key: str) -> str:
    return f"""
SELECT {key} AS name,
       count(*) FILTER (WHERE {IS_ERROR}) AS errors,
       count(*) FILTER (WHERE {IS_ERROR})::float8 / count(*) AS error_rate
FROM {CALLS}
GROUP BY 1
HAVING count(*) FILTER (WHERE {IS_ERROR}) > 0
ORDER BY errors DESC
"""


LATEST = f"""
SELECT start_time AS "time", {PROVIDER} AS provider, {MODEL} AS model,
       {ERROR_TYPE} AS error_type,
       left(coalesce(nullif(error_message, ''), status_message), 200) AS message,
       trace_id
FROM {FAILED}
ORDER BY start_time DESC
LIMIT 50
"""

BY_COLUMNS = [Column("name"), Column("errors", "short"), Column("error_rate", "percentunit")]


def build() -> Json:
    """The errors dashboard."""
    panels = [
        sql_panel(
            "timeseries",
            "Errors by type",
            BY_TYPE_OVER_TIME,
            [Column("time"), Column("errors", "short")],
        ),
        sql_panel(
            "timeseries",
            "Error rate by provider",
            RATE_BY_PROVIDER,
            [Column("time"), Column("error_rate", "percentunit")],
        ),
        sql_panel("table", "By error type", _by(ERROR_TYPE), BY_COLUMNS, width=8),
        sql_panel("table", "By model", _by(MODEL), BY_COLUMNS, width=8),
        sql_panel("table", "By provider", _by(PROVIDER), BY_COLUMNS, width=8),
        sql_panel(
            "table",
            "Latest failed calls",
            LATEST,
            [
                Column("time"),
                Column("provider"),
                Column("model"),
                Column("error_type"),
                Column("message"),
                Column("trace_id"),
            ],
            width=24,
            height=10,
        ),
    ]
    return dashboard(
        "llmobs-errors",
        "LLM errors",
        "Failed LLM calls (error status or error type) by type, model and provider.",
        panels,
        VARIABLES,
    )
