"""Dashboard 2, Cost and usage: by provider, model, project, user and operation; unpriced calls;
cached against uncached input tokens."""

from __future__ import annotations

from deploy.grafana.llm_sql import CALLS, MODEL, OPERATION, PROVIDER, VARIABLES
from deploy.grafana.panels import Column, Json, dashboard, sql_panel

COST_BY_PROVIDER = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       {PROVIDER} AS metric,
       coalesce(sum(cost_usd), 0) AS cost_usd
FROM {CALLS}
GROUP BY 1, 2 ORDER BY 1
"""

TOKENS_BY_MODEL = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       {MODEL} AS metric,
       coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0) AS tokens
FROM {CALLS}
GROUP BY 1, 2 ORDER BY 1
"""


def _breakdown(key: str, limit: int = 20) -> str:
    return f"""
SELECT {key} AS name,
       count(*) AS requests,
       coalesce(sum(input_tokens), 0) AS input_tokens,
       coalesce(sum(output_tokens), 0) AS output_tokens,
       coalesce(sum(cost_usd), 0) AS cost_usd
FROM {CALLS}
GROUP BY 1
ORDER BY cost_usd DESC, requests DESC
LIMIT {limit}
"""


UNPRICED = f"""
SELECT {PROVIDER} AS provider, {MODEL} AS model,
       count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_requests,
       count(*) AS requests
FROM {CALLS}
GROUP BY 1, 2
HAVING count(*) FILTER (WHERE cost_usd IS NULL) > 0
ORDER BY unpriced_requests DESC
"""

UNPRICED_SHARE = f"""
SELECT count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_requests,
       count(*) FILTER (WHERE cost_usd IS NULL)::float8 / greatest(count(*), 1) AS unpriced_share
FROM {CALLS}
"""

CACHED = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       coalesce(sum(cache_read_tokens), 0) AS cached_input_tokens,
       coalesce(sum(input_tokens), 0) - coalesce(sum(cache_read_tokens), 0)
         AS uncached_input_tokens,
       coalesce(sum(cache_write_tokens), 0) AS cache_write_tokens
FROM {CALLS}
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
        ("Cost by model", MODEL),
        ("Cost by project", "project_id"),
        ("Cost by user (top 20)", "coalesce(user_id, 'anonymous')"),
        ("Cost by operation", OPERATION),
        ("Cost by service", "service_name"),
        ("Cost by provider", PROVIDER),
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
        *(
            sql_panel("table", title, _breakdown(key), BREAKDOWN_COLUMNS, width=8)
            for title, key in tables
        ),
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
        "Spend and tokens by provider, model, project, user and operation, from the stored spans.",
        panels,
        VARIABLES,
        time_from="now-7d",
    )
