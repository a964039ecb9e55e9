"""Dashboard 3, Latency: duration and time to first token percentiles by model, tokens/s."""

from __future__ import annotations

from deploy.grafana.llm_sql import (
    HISTOGRAM,
    HISTOGRAM_SERIES,
    MODEL,
    USAGE,
    USAGE_SERIES,
    VARIABLES,
)
from deploy.grafana.panels import Column, Json, dashboard, sql_panel
from deploy.grafana.rollups import PERCENTILE_NOTE, TIME, quantiles


def _percentiles_over_time(metric: str) -> str:
    return f"""
SELECT "time", q[1] / 1000 AS p50, q[2] / 1000 AS p95, q[3] / 1000 AS p99
FROM (
  SELECT {TIME} AS "time", {quantiles(0.5, 0.95, 0.99)} AS q
  FROM {HISTOGRAM_SERIES}
    AND metric = '{metric}'
  GROUP BY 1
) AS per_point
ORDER BY 1
"""


P95_BY_MODEL = f"""
SELECT {TIME} AS "time",
       {MODEL} AS metric,
       ({quantiles(0.95)})[1] / 1000 AS p95
FROM {HISTOGRAM_SERIES}
  AND metric = 'duration'
GROUP BY 1, 2 ORDER BY 1
"""

# Generation speed: output tokens over the time after the first token (the whole call when the
# call was not streamed), summed over the rollup rows that produced output. Rows are groups of
# calls, so the failed calls of a row that produced output count their time too.
OUTPUT_TOKENS = "sum(output_tokens) FILTER (WHERE output_tokens > 0)"
GENERATION_SECONDS = "sum(duration_ms_sum - ttft_ms_sum) FILTER (WHERE output_tokens > 0) / 1000"
TOKENS_PER_SECOND = f"{OUTPUT_TOKENS} / nullif({GENERATION_SECONDS}, 0)"

TOKENS_PER_SECOND_BY_MODEL = f"""
SELECT {TIME} AS "time",
       {MODEL} AS metric,
       {TOKENS_PER_SECOND} AS tokens_per_second
FROM {USAGE_SERIES}
GROUP BY 1, 2
HAVING sum(output_tokens) > 0
ORDER BY 1
"""

BY_MODEL = f"""
WITH usage AS (
  SELECT {MODEL} AS model,
         sum(requests) AS requests,
         {TOKENS_PER_SECOND} AS tokens_per_second
  FROM {USAGE}
  GROUP BY 1
), duration AS (
  SELECT {MODEL} AS model, {quantiles(0.5, 0.95, 0.99)} AS q
  FROM {HISTOGRAM}
    AND metric = 'duration'
  GROUP BY 1
), ttft AS (
  SELECT {MODEL} AS model, {quantiles(0.5, 0.95)} AS q
  FROM {HISTOGRAM}
    AND metric = 'ttft'
  GROUP BY 1
)
SELECT usage.model, usage.requests,
       duration.q[1] / 1000 AS p50_seconds,
       duration.q[2] / 1000 AS p95_seconds,
       duration.q[3] / 1000 AS p99_seconds,
       ttft.q[1] / 1000 AS ttft_p50_seconds,
       ttft.q[2] / 1000 AS ttft_p95_seconds,
       usage.tokens_per_second
FROM usage
LEFT JOIN duration USING (model)
LEFT JOIN ttft USING (model)
ORDER BY requests DESC
"""


def build() -> Json:
    """The latency dashboard."""
    percentiles = [Column("time"), Column("p50", "s"), Column("p95", "s"), Column("p99", "s")]
    panels = [
        sql_panel(
            "timeseries",
            "Duration p50 / p95 / p99",
            _percentiles_over_time("duration"),
            percentiles,
            description=PERCENTILE_NOTE,
        ),
        sql_panel(
            "timeseries",
            "Time to first token p50 / p95 / p99 (streamed calls)",
            _percentiles_over_time("ttft"),
            percentiles,
            description=PERCENTILE_NOTE,
        ),
        sql_panel(
            "timeseries",
            "Duration p95 by model",
            P95_BY_MODEL,
            [Column("time"), Column("p95", "s")],
        ),
        sql_panel(
            "timeseries",
            "Output tokens per second by model",
            TOKENS_PER_SECOND_BY_MODEL,
            [Column("time"), Column("tokens_per_second", "short")],
            description="Output tokens over the time after the first token (the whole call when "
            "not streamed), of the calls of every rollup row that produced output.",
        ),
        sql_panel(
            "table",
            "Latency by model",
            BY_MODEL,
            [
                Column("model"),
                Column("requests", "short"),
                Column("p50_seconds", "s", "p50"),
                Column("p95_seconds", "s", "p95"),
                Column("p99_seconds", "s", "p99"),
                Column("ttft_p50_seconds", "s", "TTFT p50"),
                Column("ttft_p95_seconds", "s", "TTFT p95"),
                Column("tokens_per_second", "short", "tokens/s"),
            ],
            width=24,
            height=10,
            description=PERCENTILE_NOTE,
        ),
    ]
    return dashboard(
        "llmobs-latency",
        "LLM latency",
        "Call duration, time to first token and generation speed by model, from the rollups.",
        panels,
        VARIABLES,
    )
