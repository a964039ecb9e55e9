"""Dashboard 1, LLM overview: requests, tokens, cost, errors, latency percentiles, top models."""

from __future__ import annotations

from deploy.grafana.llm_sql import (
    HISTOGRAM,
    HISTOGRAM_SERIES,
    MODEL,
    PROVIDER,
    USAGE,
    USAGE_SERIES,
    VARIABLES,
)
from deploy.grafana.panels import Column, Json, dashboard, sql_panel
from deploy.grafana.rollups import PERCENTILE_NOTE, TIME, quantiles

STAT_WIDTH = 4

TOTALS = f"""
WITH usage AS (
  SELECT coalesce(sum(requests), 0) AS requests,
         coalesce(sum(input_tokens + output_tokens), 0) AS tokens,
         coalesce(sum(cost_usd), 0) AS cost_usd,
         coalesce(sum(errors), 0)::float8 / greatest(coalesce(sum(requests), 0), 1) AS error_rate,
         coalesce(sum(cache_read_tokens), 0)::float8
           / greatest(coalesce(sum(input_tokens), 0), 1) AS cached_share
  FROM {USAGE}
), latency AS (
  SELECT ({quantiles(0.95)})[1] / 1000 AS p95_seconds
  FROM {HISTOGRAM}
    AND metric = 'duration'
)
SELECT * FROM usage CROSS JOIN latency
"""

OVER_TIME = f"""
SELECT {TIME} AS "time",
       sum(requests) AS requests,
       sum(errors) AS errors
FROM {USAGE_SERIES}
GROUP BY 1 ORDER BY 1
"""

TOKENS = f"""
SELECT {TIME} AS "time",
       sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens
FROM {USAGE_SERIES}
GROUP BY 1 ORDER BY 1
"""

COST = f"""
SELECT {TIME} AS "time",
       sum(cost_usd) AS cost_usd
FROM {USAGE_SERIES}
GROUP BY 1 ORDER BY 1
"""

ERROR_RATE = f"""
SELECT {TIME} AS "time",
       sum(errors)::float8 / sum(requests) AS error_rate
FROM {USAGE_SERIES}
GROUP BY 1 ORDER BY 1
"""

LATENCY = f"""
SELECT "time", q[1] / 1000 AS p50, q[2] / 1000 AS p95, q[3] / 1000 AS p99
FROM (
  SELECT {TIME} AS "time", {quantiles(0.5, 0.95, 0.99)} AS q
  FROM {HISTOGRAM_SERIES}
    AND metric = 'duration'
  GROUP BY 1
) AS per_point
ORDER BY 1
"""

TOP_MODELS = f"""
WITH usage AS (
  SELECT {PROVIDER} AS provider, {MODEL} AS model,
         sum(requests) AS requests,
         sum(input_tokens + output_tokens) AS tokens,
         sum(cost_usd) AS cost_usd,
         sum(errors)::float8 / sum(requests) AS error_rate
  FROM {USAGE}
  GROUP BY 1, 2
), latency AS (
  SELECT {PROVIDER} AS provider, {MODEL} AS model,
         ({quantiles(0.95)})[1] / 1000 AS p95_seconds
  FROM {HISTOGRAM}
    AND metric = 'duration'
  GROUP BY 1, 2
)
SELECT usage.*, latency.p95_seconds
FROM usage LEFT JOIN latency USING (provider, model)
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
            "stat",
            "Latency p95",
            TOTALS,
            [Column("p95_seconds", "s")],
            width=STAT_WIDTH,
            height=4,
            description=PERCENTILE_NOTE,
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
            description=PERCENTILE_NOTE,
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
        "Requests, tokens, cost, errors and latency of LLM calls, from the rollups.",
        panels,
        VARIABLES,
    )
