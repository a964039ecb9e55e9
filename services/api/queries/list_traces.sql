-- Newest traces of one project, keyset-paginated on (start_time, trace_id).
SELECT trace_id, start_time, end_time, root_span_id, root_name, service_name, span_count,
       error_count, llm_call_count, input_tokens, output_tokens, cost_usd, session_id, user_id
FROM traces
WHERE project_id = %(project_id)s
  AND (%(after_start)s::timestamptz IS NULL
       OR (start_time, trace_id) < (%(after_start)s::timestamptz, %(after_trace_id)s::text))
ORDER BY start_time DESC, trace_id DESC
LIMIT %(limit)s
