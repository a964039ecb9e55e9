-- The traces of one session of one project, in start order.
SELECT trace_id, start_time, end_time, root_span_id, root_name, service_name, span_count,
       error_count, llm_call_count, input_tokens, output_tokens, cost_usd, session_id, user_id
FROM traces
WHERE project_id = %(project_id)s AND session_id = %(session_id)s
ORDER BY start_time, trace_id
LIMIT %(limit)s
