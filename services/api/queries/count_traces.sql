-- Traces of one project that started in a range.
SELECT count(*) AS trace_count
FROM traces
WHERE project_id = %(project_id)s AND start_time >= %(from)s AND start_time < %(to)s
