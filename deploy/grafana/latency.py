"""Dashboard 3, Latency: duration and time to first token percentiles by model, tokens/s."""

from __future__ import annotations

from deploy.grafana.llm_sql import CALLS, MODEL, VARIABLES
from deploy.grafana.panels import Column, Json, dashboard, sql_panel


def _percentiles_over_time(column: str) -> str:
    return f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY {column}) / 1000 AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY {column}) / 1000 AS p95,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY {column}) / 1000 AS p99
FROM {CALLS}
  AND {column} IS NOT NULL
GROUP BY 1 ORDER BY 1
"""


P95_BY_MODEL = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       {MODEL} AS metric,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) / 1000 AS p95
FROM {CALLS}
GROUP BY 1, 2 ORDER BY 1
"""

# Generation speed: output tokens over the time after the first token (the whole call when the
# call was not streamed).
GENERATION_SECONDS = "(duration_ms - coalesce(time_to_first_token_ms, 0)) / 1000"
TOKENS_PER_SECOND = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       {MODEL} AS metric,
       sum(output_tokens) / sum({GENERATION_SECONDS}) AS tokens_per_second
FROM {CALLS}
  AND output_tokens > 0 AND {GENERATION_SECONDS} > 0
GROUP BY 1, 2 ORDER BY 1
"""

BY_MODEL = f"""
SELECT {MODEL} AS model,
       count(*) AS requests,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) / 1000 AS p50_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) / 1000 AS p95_seconds,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) / 1000 AS p99_seconds,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY time_to_first_token_ms) / 1000
         AS ttft_p50_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY time_to_first_token_ms) / 1000
         AS ttft_p95_seconds,
       sum(output_tokens) FILTER (WHERE {GENERATION_SECONDS} > 0)
         / nullif(sum({GENERATION_SECONDS}) FILTER (WHERE output_tokens > 0), 0)
         AS tokens_per_second
FROM {CALLS}
GROUP BY 1
ORDER BY requests DESC
"""


def build() -> Json:
    """The latency dashboard."""
    percentiles = [Column("time"), Column("p50", "s"), Column("p95", "s"), Column("p99", "s")]
    panels = [
        sql_panel(
            "timeseries",
            "Duration p50 / p95 / p99",
            _percentiles_over_time("duration_ms"),
            percentiles,
        ),
        sql_panel(
            "timeseries",
            "Time to first token p50 / p95 / p99 (streamed calls)",
            _percentiles_over_time("time_to_first_token_ms"),
            percentiles,
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
            TOKENS_PER_SECOND,
            [Column("time"), Column("tokens_per_second", "short")],
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
        ),
    ]
    return dashboard(
        "llmobs-latency",
        "LLM latency",
        "Call duration, time to first token and generation speed by model, from the stored spans.",
        panels,
        VARIABLES,
    )
