-- p50/p95/p99 of duration and time to first token per bucket and group, read from the log-bucket
-- histograms of the rollup level {level} (ADR 0005: nearest rank, within 2.44 percent). One row per
-- bucket, group and metric; {relation} etc. are constants of analytics.py. Every group's ranks
-- come from one window pass over its merged histogram (a function call per group was 3-5 times
-- slower), with the rank rule of log_histogram_quantiles (migration 005).
WITH histogram AS (
    SELECT {bucket} AS bucket_start, {dimensions} r.metric, r.bucket_idx,
           sum(r.count)::bigint AS n
    FROM {relation}
    WHERE r.project_id = %(project_id)s
      {filters}
    GROUP BY {grouping}, r.metric, r.bucket_idx
), cumulative AS (
    SELECT h.*,
           sum(h.n) OVER (PARTITION BY {group_columns}, h.metric ORDER BY h.bucket_idx) AS running,
           sum(h.n) OVER (PARTITION BY {group_columns}, h.metric) AS total
    FROM histogram h
)
SELECT {group_columns}, c.metric, max(c.total)::bigint AS count,
       ARRAY[latency_bucket_value(min(c.bucket_idx) FILTER (
                 WHERE c.running >= greatest(ceil(0.5 * c.total::double precision), 1))),
             latency_bucket_value(min(c.bucket_idx) FILTER (
                 WHERE c.running >= greatest(ceil(0.95 * c.total::double precision), 1))),
             latency_bucket_value(min(c.bucket_idx) FILTER (
                 WHERE c.running >= greatest(ceil(0.99 * c.total::double precision), 1)))]
           AS quantiles
FROM cumulative c
GROUP BY {group_columns}, c.metric
ORDER BY {group_columns}, c.metric
LIMIT %(limit)s
