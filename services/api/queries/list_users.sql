-- Users of one project with traces starting in the range, most recently seen first.
WITH users AS (
    SELECT user_id, min(start_time) AS first_seen, max(end_time) AS last_seen,
           count(*) AS trace_count, count(DISTINCT session_id) AS session_count,
           sum(llm_call_count)::bigint AS llm_call_count, sum(error_count)::bigint AS error_count,
           sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
           sum(cost_usd) AS cost_usd
    FROM traces
    WHERE project_id = %(project_id)s AND user_id IS NOT NULL
      AND start_time >= %(from)s AND start_time < %(to)s
    GROUP BY user_id
)
SELECT *, last_seen AS sort_value FROM users
WHERE %(after_id)s::text IS NULL
   OR (last_seen, user_id)
      < ('epoch'::timestamptz + %(after)s::bigint * interval '1 microsecond', %(after_id)s::text)
ORDER BY last_seen DESC, user_id DESC
LIMIT %(limit)s
