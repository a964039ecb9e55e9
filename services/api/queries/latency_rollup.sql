-- p50/p95/p99 of duration and time to first token per bucket and group, read from the log-bucket
-- histograms of the rollup level {level} (ADR 0005: nearest rank, within 2.44 percent). One row per
-- bucket, group and metric; {relation} etc. are constants of analytics.py.
SELECT {bucket} AS bucket_start, {dimensions} r.metric,
       sum(r.count)::bigint AS count,
       log_histogram_quantiles(array_agg(r.bucket_idx), array_agg(r.count::bigint),
                               ARRAY[0.5, 0.95, 0.99]) AS quantiles
FROM {relation}
WHERE r.project_id = %(project_id)s
  {filters}
GROUP BY {grouping}, r.metric
ORDER BY {grouping}, r.metric
LIMIT %(limit)s
