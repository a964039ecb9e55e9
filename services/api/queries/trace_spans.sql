-- Every span of one trace in one project, in start order. Every span starts within its trace's
-- bounds (the trace row folds them in the same transaction), so the bounds let PostgreSQL skip
-- at execution the day partitions (TimescaleDB: chunks) the trace is not in, instead of
-- probing the index of each.
SELECT {columns}
FROM spans s
WHERE s.project_id = %(project_id)s AND s.trace_id = %(trace_id)s
  AND s.start_time BETWEEN (SELECT t.start_time FROM traces t
                            WHERE t.project_id = %(project_id)s AND t.trace_id = %(trace_id)s)
                       AND (SELECT t.end_time FROM traces t
                            WHERE t.project_id = %(project_id)s AND t.trace_id = %(trace_id)s)
ORDER BY s.start_time, s.span_id
