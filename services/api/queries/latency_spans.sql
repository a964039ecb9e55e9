-- p50/p95/p99 of duration and time to first token of counted LLM calls per {bucket} bucket
-- and group, computed exactly (nearest rank, as the rollups estimate it) from raw spans.
SELECT {bucket} AS bucket_start, {dimensions}
       count(*) AS requests,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY s.duration_ms) AS duration_p50_ms,
       percentile_disc(0.95) WITHIN GROUP (ORDER BY s.duration_ms) AS duration_p95_ms,
       percentile_disc(0.99) WITHIN GROUP (ORDER BY s.duration_ms) AS duration_p99_ms,
       count(s.time_to_first_token_ms) AS ttft_count,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY s.time_to_first_token_ms) AS ttft_p50_ms,
       percentile_disc(0.95) WITHIN GROUP (ORDER BY s.time_to_first_token_ms) AS ttft_p95_ms,
       percentile_disc(0.99) WITHIN GROUP (ORDER BY s.time_to_first_token_ms) AS ttft_p99_ms
FROM spans s
WHERE s.project_id = %(project_id)s AND s.llm_is_counted
  AND s.start_time >= %(from)s AND s.start_time < %(to)s
  {filters}
GROUP BY {grouping}
ORDER BY {grouping}
LIMIT %(limit)s
