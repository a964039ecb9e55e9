-- Langfuse GET /api/public/metrics/daily: per UTC day (and model), counted LLM calls of the
-- traces matching the filters (trace name, user, tags), from raw spans.
SELECT date_trunc('day', s.start_time AT TIME ZONE 'UTC')::date AS day,
       s.request_model AS model, GROUPING(s.request_model) = 1 AS is_day_total,
       count(DISTINCT s.trace_id) AS count_traces, count(*) AS count_observations,
       coalesce(sum(s.input_tokens), 0)::bigint AS input_usage,
       coalesce(sum(s.output_tokens), 0)::bigint AS output_usage,
       coalesce(sum(coalesce(s.total_tokens, coalesce(s.input_tokens, 0)
                             + coalesce(s.output_tokens, 0))), 0)::bigint AS total_usage,
       coalesce(sum(s.cost_usd), 0) AS total_cost
FROM spans s
JOIN traces t ON t.project_id = s.project_id AND t.trace_id = s.trace_id
WHERE s.project_id = %(project_id)s AND s.llm_is_counted
  AND s.start_time >= %(from)s AND s.start_time < %(to)s
  AND (%(user)s::text IS NULL OR t.user_id = %(user)s::text)
  AND (%(name)s::text IS NULL OR t.root_name = %(name)s::text)
  AND (cardinality(%(environments)s::text[]) = 0
       OR coalesce(s.resource_attributes ->> 'deployment.environment.name',
                   s.resource_attributes ->> 'deployment.environment', 'default')
          = ANY (%(environments)s::text[]))
  AND NOT EXISTS (
      SELECT 1 FROM unnest(%(tags)s::text[]) AS wanted (tag)
      WHERE NOT EXISTS (
          SELECT 1 FROM spans x
          WHERE x.project_id = t.project_id AND x.trace_id = t.trace_id
            AND x.start_time BETWEEN t.start_time AND t.end_time AND wanted.tag = ANY (x.tags)))
GROUP BY GROUPING SETS ((date_trunc('day', s.start_time AT TIME ZONE 'UTC')::date, s.request_model),
                        (date_trunc('day', s.start_time AT TIME ZONE 'UTC')::date))
ORDER BY 1 DESC, 3 DESC, 2
