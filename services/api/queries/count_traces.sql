-- Traces of one project that started in a range: the whole hours inside it from the hourly
-- counts storage keeps (trace_counts_1h), the partial hours at either end from the traces.
WITH range AS (
    SELECT %(from)s::timestamptz AS lo, %(to)s::timestamptz AS hi,
           date_bin('1 hour', %(from)s::timestamptz, TIMESTAMPTZ '2000-01-01 00:00:00+00')
               AS lo_hour,
           date_bin('1 hour', %(to)s::timestamptz, TIMESTAMPTZ '2000-01-01 00:00:00+00')
               AS hi_hour
), whole AS (
    -- [first, last) are the whole hours of [lo, hi); first >= last when there are none.
    SELECT lo, hi, CASE WHEN lo_hour = lo THEN lo ELSE lo_hour + interval '1 hour' END AS first,
           hi_hour AS last
    FROM range
)
SELECT (SELECT coalesce(sum(c.trace_count), 0) FROM trace_counts_1h c
        WHERE c.project_id = %(project_id)s
          AND c.bucket_start >= whole.first AND c.bucket_start < whole.last)
     + (SELECT count(*) FROM traces t
        WHERE t.project_id = %(project_id)s
          AND t.start_time >= whole.lo AND t.start_time < least(whole.first, whole.hi))
     + (SELECT count(*) FROM traces t
        WHERE t.project_id = %(project_id)s
          AND t.start_time >= greatest(whole.last, whole.first) AND t.start_time < whole.hi)
       AS trace_count
FROM whole
