-- Failed LLM spans of one project in a range, grouped by error type and model (raw spans).
SELECT coalesce(s.error_type, 'unknown') AS error_type,
       coalesce(s.request_model, s.response_model, '') AS model,
       count(*) AS count, min(s.start_time) AS first_seen, max(s.start_time) AS last_seen,
       (array_agg(s.error_message ORDER BY s.start_time DESC)
            FILTER (WHERE s.error_message IS NOT NULL))[1] AS last_message,
       (array_agg(s.trace_id ORDER BY s.start_time DESC))[1] AS last_trace_id
FROM spans s
WHERE s.project_id = %(project_id)s AND s.llm_convention IS NOT NULL
  AND (coalesce(s.is_error, false) OR s.status_code = 2)
  AND s.start_time >= %(from)s AND s.start_time < %(to)s
  AND (%(model)s::text IS NULL OR s.request_model = %(model)s::text
       OR s.response_model = %(model)s::text)
GROUP BY 1, 2
ORDER BY count(*) DESC, 1, 2
LIMIT %(limit)s
