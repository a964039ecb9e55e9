-- All-time totals of one user of one project, over its traces.
SELECT user_id, min(start_time) AS first_seen, max(end_time) AS last_seen,
       count(*) AS trace_count, count(DISTINCT session_id) AS session_count,
       sum(llm_call_count)::bigint AS llm_call_count, sum(error_count)::bigint AS error_count,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(cost_usd) AS cost_usd
FROM traces
WHERE project_id = %(project_id)s AND user_id = %(user_id)s
GROUP BY user_id
