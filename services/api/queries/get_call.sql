-- One span by id in one project (the newest, should two traces reuse a span id).
SELECT {columns}
FROM spans s
WHERE s.project_id = %(project_id)s AND s.span_id = %(span_id)s
  AND (%(trace_id)s::text IS NULL OR s.trace_id = %(trace_id)s::text)
ORDER BY s.start_time DESC, s.trace_id DESC
LIMIT 1
