-- Langfuse GET /api/public/observations: spans of one project by its filters, newest first,
-- one page by offset with the total count.
SELECT {columns}, count(*) OVER () AS total_items
FROM spans s
WHERE s.project_id = %(project_id)s
  AND (%(trace_id)s::text IS NULL OR s.trace_id = %(trace_id)s::text)
  AND (%(from)s::timestamptz IS NULL OR s.start_time >= %(from)s::timestamptz)
  AND (%(to)s::timestamptz IS NULL OR s.start_time < %(to)s::timestamptz)
  AND (%(name)s::text IS NULL OR s.name = %(name)s::text)
  AND (%(user)s::text IS NULL OR s.user_id = %(user)s::text)
  AND (%(parent)s::text IS NULL OR s.parent_span_id = %(parent)s::text)
  AND (%(type)s::text IS NULL
       OR (CASE WHEN s.llm_is_counted THEN 'GENERATION' ELSE 'SPAN' END) = %(type)s::text)
  AND (%(level)s::text IS NULL
       OR (CASE WHEN coalesce(s.is_error, false) OR s.status_code = 2 THEN 'ERROR'
                ELSE 'DEFAULT' END) = %(level)s::text)
  AND (cardinality(%(environments)s::text[]) = 0
       OR coalesce(s.resource_attributes ->> 'deployment.environment.name',
                   s.resource_attributes ->> 'deployment.environment', 'default')
          = ANY (%(environments)s::text[]))
ORDER BY s.start_time DESC, s.trace_id, s.span_id
LIMIT %(limit)s OFFSET %(offset)s
