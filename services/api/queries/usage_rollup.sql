-- Usage of counted LLM calls per bucket and group, from the rollup level {level} (ADR 0005):
-- {relation} is usage_1m, usage_1h or usage_1d, or the tiles of rollup_tiles() covering the
-- range; {bucket}, {dimensions}, {filters} and {grouping} are constants of analytics.py.
SELECT {bucket} AS bucket_start, {dimensions}
       sum(r.requests)::bigint AS requests, sum(r.errors)::bigint AS errors,
       sum(r.input_tokens)::bigint AS input_tokens,
       sum(r.output_tokens)::bigint AS output_tokens,
       sum(r.cache_read_tokens)::bigint AS cache_read_tokens,
       sum(r.cache_write_tokens)::bigint AS cache_write_tokens,
       sum(r.reasoning_tokens)::bigint AS reasoning_tokens,
       sum(r.cost_usd)::numeric AS cost_usd,
       sum(r.unpriced_requests)::bigint AS unpriced_requests
FROM {relation}
WHERE r.project_id = %(project_id)s
  {filters}
GROUP BY {grouping}
ORDER BY {grouping}
LIMIT %(limit)s
