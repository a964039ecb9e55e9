"""Dashboard 2, Cost and usage: by provider, model, project, user and operation; unpriced calls;
cached against uncached input tokens."""

from __future__ import annotations

from deploy.grafana.llm_sql import (
    CALLS,
    MODEL,
    OPERATION,
    PROVIDER,
    USAGE,
    USAGE_SERIES,
    VARIABLES,
)
from deploy.grafana.panels import Column, Json, dashboard, sql_panel
from deploy.grafana.rollups import TIME

COST_BY_PROVIDER = f"""
SELECT {TIME} AS "time",
       {PROVIDER} AS metric,
       sum(cost_usd) AS cost_usd
FROM {USAGE_SERIES}
GROUP BY 1, 2 ORDER BY 1
"""

TOKENS_BY_MODEL = f"""
SELECT {TIME} AS "time",
       {MODEL} AS metric,
       sum(input_tokens + output_tokens) AS tokens
FROM {USAGE_SERIES}
GROUP BY 1, 2 ORDER BY 1
"""


def _breakdown(key: str, source: str = USAGE, requests: str = "sum(requests)") -> str:
    return f"""
SELECT {key} AS name,
       {requests} AS requests,
       coalesce(sum(input_tokens), 0) AS input_tokens,
       coalesce(sum(output_tokens), 0) AS output_tokens,
       coalesce(sum(cost_usd), 0) AS cost_usd
FROM {source}
GROUP BY 1
ORDER BY cost_usd DESC, requests DESC
LIMIT 20
"""


# Users are not a rollup key: spend per user is read from the calls themselves.
BY_USER = _breakdown("coalesce(user_id, 'anonymous')", CALLS, "count(*)")

UNPRICED = f"""
SELECT {PROVIDER} AS provider, {MODEL} AS model,
       sum(unpriced_requests) AS unpriced_requests,
       sum(requests) AS requests
FROM {USAGE}
GROUP BY 1, 2
HAVING sum(unpriced_requests) > 0
ORDER BY unpriced_requests DESC
"""

UNPRICED_SHARE = f"""
SELECT coalesce(sum(unpriced_requests), 0) AS unpriced_requests,
       coalesce(sum(unpriced_requests), 0)::float8 / greatest(coalesce(sum(requests), 0), 1)
         AS unpriced_share
FROM {USAGE}
"""

CACHED = f"""
SELECT {TIME} AS "time",
       sum(cache_read_tokens) AS cached_input_tokens,
       sum(input_tokens) - sum(cache_read_tokens) AS uncached_input_tokens,
       sum(cache_write_tokens) AS cache_write_tokens
FROM {USAGE_SERIES}
GROUP BY 1 ORDER BY 1
"""

BREAKDOWN_COLUMNS = [
    Column("name"),
    Column("requests", "short"),
    Column("input_tokens", "short", "input"),
    Column("output_tokens", "short", "output"),
    Column("cost_usd", "currencyUSD", "cost"),
]


def build() -> Json:
    """The cost and usage dashboard."""
    tables = [
        ("Cost by model", _breakdown(MODEL)),
        ("Cost by project", _breakdown("project_id")),
        ("Cost by user (top 20)", BY_USER),
        ("Cost by operation", _breakdown(OPERATION)),
        ("Cost by service", _breakdown("service_name")),
        ("Cost by provider", _breakdown(PROVIDER)),
    ]
    panels = [
        sql_panel(
            "timeseries",
            "Cost by provider",
            COST_BY_PROVIDER,
            [Column("time"), Column("cost_usd", "currencyUSD")],
        ),
        sql_panel(
            "timeseries",
            "Tokens by model",
            TOKENS_BY_MODEL,
            [Column("time"), Column("tokens", "short")],
        ),
        *(sql_panel("table", title, query, BREAKDOWN_COLUMNS, width=8) for title, query in tables),
        sql_panel(
            "stat",
            "Unpriced calls",
            UNPRICED_SHARE,
            [
                Column("unpriced_requests", "short", "calls"),
                Column("unpriced_share", "percentunit", "share"),
            ],
            width=6,
            description="LLM calls without a computed cost: no usage reported, or a model "
            "no price list knows.",
        ),
        sql_panel(
            "table",
            "Unpriced calls by model",
            UNPRICED,
            [
                Column("provider"),
                Column("model"),
                Column("unpriced_requests", "short", "unpriced"),
                Column("requests", "short"),
            ],
            width=6,
        ),
        sql_panel(
            "timeseries",
            "Cached and uncached input tokens",
            CACHED,
            [
                Column("time"),
                Column("cached_input_tokens", "short", "cached"),
                Column("uncached_input_tokens", "short", "uncached"),
                Column("cache_write_tokens", "short", "written to cache"),
            ],
        ),
    ]
    return dashboard(
        "llmobs-cost",
        "LLM cost and usage",
        "Spend and tokens by provider, model, project, user and operation, from the rollups"
        " (per user: from the stored calls).",
        panels,
        VARIABLES,
        time_from="now-7d",
    )
