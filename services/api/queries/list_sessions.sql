-- Sessions of one project with traces starting in the range, most recently active first.
WITH sessions AS (
    SELECT session_id, min(start_time) AS first_seen, max(end_time) AS last_seen,
           count(*) AS trace_count, sum(llm_call_count)::bigint AS llm_call_count,
           sum(error_count)::bigint AS error_count, sum(input_tokens)::bigint AS input_tokens,
           sum(output_tokens)::bigint AS output_tokens, sum(cost_usd) AS cost_usd,
           min(user_id) AS user_id
    FROM traces
    WHERE project_id = %(project_id)s AND session_id IS NOT NULL
      AND start_time >= %(from)s AND start_time < %(to)s
      AND (%(user)s::text IS NULL OR user_id = %(user)s::text)
    GROUP BY session_id
)
SELECT *, last_seen AS sort_value FROM sessions
WHERE %(after_id)s::text IS NULL
   OR (last_seen, session_id)
      < ('epoch'::timestamptz + %(after)s::bigint * interval '1 microsecond', %(after_id)s::text)
ORDER BY last_seen DESC, session_id DESC
LIMIT %(limit)s
