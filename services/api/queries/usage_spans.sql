-- Usage of counted LLM calls per {bucket} bucket and group, computed from raw spans.
-- {bucket} and {dimensions} are constants of services/api/analytics.py.
SELECT {bucket} AS bucket_start, {dimensions}
       count(*) AS requests,
       count(*) FILTER (WHERE coalesce(s.is_error, false) OR s.status_code = 2) AS errors,
       coalesce(sum(s.input_tokens), 0)::bigint AS input_tokens,
       coalesce(sum(s.output_tokens), 0)::bigint AS output_tokens,
       coalesce(sum(s.cache_read_tokens), 0)::bigint AS cache_read_tokens,
       coalesce(sum(s.cache_write_tokens), 0)::bigint AS cache_write_tokens,
       coalesce(sum(s.reasoning_tokens), 0)::bigint AS reasoning_tokens,
       coalesce(sum(s.cost_usd), 0)::numeric AS cost_usd,
       count(*) FILTER (WHERE s.cost_usd IS NULL) AS unpriced_requests
FROM spans s
WHERE s.project_id = %(project_id)s AND s.llm_is_counted
  AND s.start_time >= %(from)s AND s.start_time < %(to)s
  {filters}
GROUP BY {grouping}
ORDER BY {grouping}
LIMIT %(limit)s
