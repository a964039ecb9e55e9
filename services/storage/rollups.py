"""Rollups the service keeps on plain PostgreSQL: new LLM calls folded into usage and latency
tables per minute, hour and day, in the transaction that inserted them.

The writer's upsert copies exactly the spans it inserted (and that are counted LLM calls) into
`new_llm_calls`; a redelivered batch inserts nothing, so it folds nothing. On TimescaleDB the
same relations are continuous aggregates (migration 005) and nothing here runs.
"""

from __future__ import annotations

from typing import Any

import psycopg

CREATE_NEW_CALLS = """
CREATE TEMP TABLE IF NOT EXISTS new_llm_calls (
    start_time timestamptz, project_id text, provider text, model text, operation text,
    service_name text, environment text, is_error boolean, input_tokens bigint,
    output_tokens bigint, cache_read_tokens bigint, cache_write_tokens bigint,
    reasoning_tokens bigint, cost_usd numeric, duration_ms double precision,
    ttft_ms double precision, sample_weight numeric
) ON COMMIT DELETE ROWS
"""

# A data-modifying CTE for the writer's upsert: `inserted` is the rows inserted now. The group
# keys are those of the continuous aggregates of migration 005.
CAPTURE_NEW_CALLS = """
captured AS (
    INSERT INTO new_llm_calls
    SELECT start_time, project_id, coalesce(provider, ''),
           coalesce(request_model, response_model, ''), coalesce(operation, ''), service_name,
           environment, coalesce(is_error OR status_code = 2, false),
           input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
           cost_usd, duration_ms, time_to_first_token_ms, sample_weight
    FROM inserted WHERE llm_is_counted
    RETURNING 1
)"""

# Where every bucket (rollup, re-pricing delta, hourly trace count) starts counting from.
ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"
_KEYS = "bucket_start, project_id, provider, model, operation, service_name, environment"
_LEVELS = {"1m": "1 minute", "1h": "1 hour", "1d": "1 day"}
_ADDED = (
    "requests", "errors", "input_tokens", "output_tokens", "cache_read_tokens",
    "cache_write_tokens", "reasoning_tokens", "cost_usd", "unpriced_requests",
    "duration_ms_sum", "ttft_ms_sum", "ttft_count",
)  # fmt: skip
_MERGE = ",\n    ".join(
    [f"{column} = u.{column} + excluded.{column}" for column in _ADDED]
    + ["duration_ms_max = greatest(u.duration_ms_max, excluded.duration_ms_max)"]
)

# Rows are sorted by key so that concurrent writers lock rollup rows in the same order.
_FOLD_USAGE = """
INSERT INTO usage_{level} AS u ({keys}, requests, errors, input_tokens, output_tokens,
    cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, unpriced_requests,
    duration_ms_sum, duration_ms_max, ttft_ms_sum, ttft_count)
SELECT date_bin('{width}', start_time, {origin}), project_id, provider, model, operation,
       service_name, environment, count(*), count(*) FILTER (WHERE is_error),
       coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
       coalesce(sum(cache_read_tokens), 0), coalesce(sum(cache_write_tokens), 0),
       coalesce(sum(reasoning_tokens), 0), coalesce(sum(cost_usd), 0),
       count(*) FILTER (WHERE cost_usd IS NULL), sum(duration_ms), max(duration_ms),
       coalesce(sum(ttft_ms), 0), count(ttft_ms)
FROM new_llm_calls
GROUP BY 1, 2, 3, 4, 5, 6, 7
ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT ({keys}) DO UPDATE SET
    {merge}
"""

_FOLD_HISTOGRAM = """
INSERT INTO latency_hist_{level} AS h ({keys}, metric, bucket_idx, count)
SELECT date_bin('{width}', start_time, {origin}), project_id, provider, model, operation,
       service_name, environment, m.metric, latency_bucket(m.value_ms), count(*)
FROM new_llm_calls
CROSS JOIN LATERAL (VALUES ('duration', duration_ms), ('ttft', ttft_ms)) AS m (metric, value_ms)
WHERE m.value_ms IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
ON CONFLICT ({keys}, metric, bucket_idx) DO UPDATE SET count = h.count + excluded.count
"""

# What weighted calls stand for beyond themselves (migration 009): (weight - 1) times each.
_FOLD_SAMPLED_OUT = """
INSERT INTO sampled_out_{level} AS s ({keys}, requests, input_tokens, output_tokens, cost_usd)
SELECT date_bin('{width}', start_time, {origin}), project_id, provider, model, operation,
       service_name, environment, sum(sample_weight - 1),
       coalesce(sum(input_tokens * (sample_weight - 1)), 0),
       coalesce(sum(output_tokens * (sample_weight - 1)), 0),
       coalesce(sum(cost_usd * (sample_weight - 1)), 0)
FROM new_llm_calls
WHERE sample_weight IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7
ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT ({keys}) DO UPDATE SET
    requests = s.requests + excluded.requests,
    input_tokens = s.input_tokens + excluded.input_tokens,
    output_tokens = s.output_tokens + excluded.output_tokens,
    cost_usd = s.cost_usd + excluded.cost_usd
"""

FOLDS: tuple[str, ...] = tuple(
    template.format(level=level, width=width, origin=ORIGIN, keys=_KEYS, merge=_MERGE)
    for template in (_FOLD_USAGE, _FOLD_HISTOGRAM, _FOLD_SAMPLED_OUT)
    for level, width in _LEVELS.items()
)


async def fold_new_calls(cursor: psycopg.AsyncCursor[Any]) -> None:
    """Fold `new_llm_calls` into every rollup table (inside the writer's transaction)."""
    for statement in FOLDS:
        await cursor.execute(statement)
