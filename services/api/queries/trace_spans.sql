-- Every span of one trace in one project, in start order.
SELECT {columns}
FROM spans s
WHERE s.project_id = %(project_id)s AND s.trace_id = %(trace_id)s
ORDER BY s.start_time, s.span_id
