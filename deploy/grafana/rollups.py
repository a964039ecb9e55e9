"""The rollup relations LLM panels read (docs/adr/0005-rollups-and-percentiles.md): usage and
latency histograms of counted LLM calls, either covering the dashboard's time range (totals,
tables, variables) or at the level a time series' interval calls for.

Every relation is a parenthesised subquery aliased `r` with the rollup's columns; the series
relations add `width`, the level's bucket width, which `TIME` never goes below.
"""

from __future__ import annotations

LEVELS = {"1m": "1 minute", "1h": "1 hour", "1d": "1 day"}
KEYS = "bucket_start, project_id, provider, model, operation, service_name, environment"
USAGE_MEASURES = (
    "requests, errors, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,"
    " reasoning_tokens, cost_usd, unpriced_requests, duration_ms_sum, duration_ms_max,"
    " ttft_ms_sum, ttft_count"
)
HISTOGRAM_MEASURES = "metric, bucket_idx, count"

# A series reads the finest level no finer than its interval whose rows still exist for the
# whole range. Retention keeps every level at least 4 days (services/storage/config.py), the
# 1h level 90 days by default (RETENTION_ROLLUP_1H_DAYS): 1m serves ranges starting within 2
# days, 1h ranges starting within 60 days. The choice is a constant once Grafana has expanded
# the macros, so PostgreSQL runs only the chosen level's branch (a one-time filter).
FINE_RANGE = "2 days"
MEDIUM_RANGE = "60 days"
LEVEL = f"""CASE
   WHEN $__interval_ms < 3600000 AND $__timeFrom() >= now() - INTERVAL '{FINE_RANGE}' THEN '1m'
   WHEN $__interval_ms < 86400000 AND $__timeFrom() >= now() - INTERVAL '{MEDIUM_RANGE}' THEN '1h'
   ELSE '1d' END"""

# The start of a series' point: Grafana's interval, or the level's width when that is coarser,
# on the rollups' own origin (midnight UTC) so that no point splits a rollup bucket.
TIME = (
    "date_bin(greatest($__interval_ms * INTERVAL '1 millisecond', width), bucket_start,"
    " TIMESTAMPTZ '2000-01-01 00:00:00+00')"
)


def _tiles(relation: str, measures: str) -> str:
    branches = "\n    UNION ALL\n".join(
        f"""    SELECT {KEYS}, {measures} FROM {relation}_{level}
    WHERE t.level = '{level}' AND bucket_start >= t.tile_start AND bucket_start < t.tile_end"""
        for level in LEVELS
    )
    return f"""(SELECT tile_rows.*
 FROM rollup_tiles($__timeFrom(), $__timeTo()) AS t
 CROSS JOIN LATERAL (
{branches}
 ) AS tile_rows) AS r"""


def _series(relation: str, measures: str) -> str:
    branches = "\n    UNION ALL\n".join(
        f"""    SELECT {KEYS}, {measures}, INTERVAL '{width}' AS width FROM {relation}_{level}
    WHERE chosen.level = '{level}' AND $__timeFilter(bucket_start)"""
        for level, width in LEVELS.items()
    )
    return f"""(SELECT level_rows.*
 FROM (SELECT {LEVEL} AS level) AS chosen
 CROSS JOIN LATERAL (
{branches}
 ) AS level_rows) AS r"""


# The rows covering the time range at minute resolution: whole days from 1d, whole hours from
# 1h, the edge minutes from 1m (rollup_tiles; partial edge minutes count whole).
USAGE_IN_RANGE = _tiles("usage", USAGE_MEASURES)
HISTOGRAM_IN_RANGE = _tiles("latency_hist", HISTOGRAM_MEASURES)
# The rows of the range at the level LEVEL picks, for series grouped by TIME.
USAGE_SERIES = _series("usage", USAGE_MEASURES)
HISTOGRAM_SERIES = _series("latency_hist", HISTOGRAM_MEASURES)


PERCENTILE_NOTE = "Percentiles from the rollups' log histograms: within 2.44 % of the exact value."


def quantiles(*fractions: float) -> str:
    """The nearest-rank quantiles of the grouped histogram rows, in milliseconds, as an array;
    each within 2.44 % of the exact value (log_histogram_quantiles)."""
    wanted = ", ".join(str(fraction) for fraction in fractions)
    return f"log_histogram_quantiles(array_agg(bucket_idx), array_agg(count), ARRAY[{wanted}])"
