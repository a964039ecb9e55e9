"""Dashboard 1, LLM overview: requests, tokens, cost, errors, latency percentiles, top models."""

from __future__ import annotations

from deploy.grafana.llm_sql import CALLS, IS_ERROR, MODEL, PROVIDER, VARIABLES
from deploy.grafana.panels import Column, Json, dashboard, sql_panel

STAT_WIDTH = 4

TOTALS = f"""
SELECT count(*) AS requests,
       coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0) AS tokens,
       coalesce(sum(cost_usd), 0) AS cost_usd,
       count(*) FILTER (WHERE {IS_ERROR})::float8 / greatest(count(*), 1) AS error_rate,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) / 1000 AS p95_seconds,
       coalesce(sum(cache_read_tokens), 0)::float8
         / greatest(coalesce(sum(input_tokens), 0), 1) AS cached_share
FROM {CALLS}
"""

OVER_TIME = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       count(*) AS requests,
       count(*) FILTER (WHERE {IS_ERROR}) AS errors
FROM {CALLS}
GROUP BY 1 ORDER BY 1
"""

TOKENS = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       coalesce(sum(input_tokens), 0) AS input_tokens,
       coalesce(sum(output_tokens), 0) AS output_tokens
FROM {CALLS}
GROUP BY 1 ORDER BY 1
"""

COST = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       coalesce(sum(cost_usd), 0) AS cost_usd
FROM {CALLS}
GROUP BY 1 ORDER BY 1
"""

ERROR_RATE = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       count(*) FILTER (WHERE {IS_ERROR})::float8 / count(*) AS error_rate
FROM {CALLS}
GROUP BY 1 ORDER BY 1
"""

LATENCY = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) / 1000 AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) / 1000 AS p95,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) / 1000 AS p99
FROM {CALLS}
GROUP BY 1 ORDER BY 1
"""

TOP_MODELS = f"""
SELECT {PROVIDER} AS provider, {MODEL} AS model,
       count(*) AS requests,
       coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0) AS tokens,
       coalesce(sum(cost_usd), 0) AS cost_usd,
       count(*) FILTER (WHERE {IS_ERROR})::float8 / count(*) AS error_rate,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) / 1000 AS p95_seconds
FROM {CALLS}
GROUP BY 1, 2
ORDER BY requests DESC
LIMIT 20
"""


def build() -> Json:
    """The LLM overview dashboard."""
    panels = [
        sql_panel(
            "stat", "Requests", TOTALS, [Column("requests", "short")], width=STAT_WIDTH, height=4
        ),
        sql_panel(
            "stat", "Tokens", TOTALS, [Column("tokens", "short")], width=STAT_WIDTH, height=4
        ),
        sql_panel(
            "stat", "Cost", TOTALS, [Column("cost_usd", "currencyUSD")], width=STAT_WIDTH, height=4
        ),
        sql_panel(
            "stat",
            "Error rate",
            TOTALS,
            [Column("error_rate", "percentunit")],
            width=STAT_WIDTH,
            height=4,
        ),
        sql_panel(
            "stat", "Latency p95", TOTALS, [Column("p95_seconds", "s")], width=STAT_WIDTH, height=4
        ),
        sql_panel(
            "stat",
            "Input tokens from cache",
            TOTALS,
            [Column("cached_share", "percentunit")],
            width=STAT_WIDTH,
            height=4,
        ),
        sql_panel(
            "timeseries",
            "Requests and errors",
            OVER_TIME,
            [Column("time"), Column("requests", "short"), Column("errors", "short")],
        ),
        sql_panel(
            "timeseries",
            "Tokens",
            TOKENS,
            [
                Column("time"),
                Column("input_tokens", "short", "input"),
                Column("output_tokens", "short", "output"),
            ],
        ),
        sql_panel("timeseries", "Cost", COST, [Column("time"), Column("cost_usd", "currencyUSD")]),
        sql_panel(
            "timeseries",
            "Error rate",
            ERROR_RATE,
            [Column("time"), Column("error_rate", "percentunit")],
        ),
        sql_panel(
            "timeseries",
            "Latency p50 / p95 / p99",
            LATENCY,
            [Column("time"), Column("p50", "s"), Column("p95", "s"), Column("p99", "s")],
        ),
        sql_panel(
            "table",
            "Top models",
            TOP_MODELS,
            [
                Column("provider"),
                Column("model"),
                Column("requests", "short"),
                Column("tokens", "short"),
                Column("cost_usd", "currencyUSD", "cost"),
                Column("error_rate", "percentunit", "error rate"),
                Column("p95_seconds", "s", "p95"),
            ],
            width=24,
            height=10,
        ),
    ]
    return dashboard(
        "llmobs-overview",
        "LLM overview",
        "Requests, tokens, cost, errors and latency of LLM calls, from the stored spans.",
        panels,
        VARIABLES,
    )
