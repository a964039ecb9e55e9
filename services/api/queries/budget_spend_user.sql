-- Cost and tokens of one user's counted LLM calls in [from, to) (raw spans: the rollups keep no
-- user; a period is at most a month, and spans_project_user_time serves it).
SELECT coalesce(sum(cost_usd), 0)::numeric AS cost_usd,
       coalesce(sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)), 0)::bigint AS tokens
FROM spans
WHERE project_id = %(project_id)s AND user_id = %(user_id)s AND llm_is_counted
  AND start_time >= %(from)s AND start_time < %(to)s
