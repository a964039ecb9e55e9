-- Langfuse GET /api/public/traces: traces of one project by its filters, one page by offset,
-- with the total count; the root span's content, observation ids and tags for the page's rows
-- only. {order} and {order_page} are constants of services/api/routes/langfuse.py; every value
-- a client sends is a bound parameter.
WITH page AS (
    SELECT t.project_id, t.trace_id, t.start_time, t.end_time, t.root_span_id, t.root_name,
           t.session_id, t.user_id, t.cost_usd, count(*) OVER () AS total_items
    FROM traces t
    WHERE t.project_id = %(project_id)s
      AND (%(trace_id)s::text IS NULL OR t.trace_id = %(trace_id)s::text)
      AND (%(from)s::timestamptz IS NULL OR t.start_time >= %(from)s::timestamptz)
      AND (%(to)s::timestamptz IS NULL OR t.start_time < %(to)s::timestamptz)
      AND (%(user)s::text IS NULL OR t.user_id = %(user)s::text)
      AND (%(session)s::text IS NULL OR t.session_id = %(session)s::text)
      AND (%(name)s::text IS NULL OR t.root_name = %(name)s::text)
      AND (cardinality(%(environments)s::text[]) = 0 OR EXISTS (
          SELECT 1 FROM spans s
          WHERE s.project_id = t.project_id AND s.trace_id = t.trace_id
            AND s.span_id = t.root_span_id AND s.start_time BETWEEN t.start_time AND t.end_time
            AND coalesce(s.resource_attributes ->> 'deployment.environment.name',
                         s.resource_attributes ->> 'deployment.environment', 'default')
                = ANY (%(environments)s::text[])))
      AND NOT EXISTS (
          SELECT 1 FROM unnest(%(tags)s::text[]) AS wanted (tag)
          WHERE NOT EXISTS (
              SELECT 1 FROM spans s
              WHERE s.project_id = t.project_id AND s.trace_id = t.trace_id
                AND s.start_time BETWEEN t.start_time AND t.end_time
                AND wanted.tag = ANY (s.tags)))
    ORDER BY {order}, t.trace_id
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT page.*, root.input_messages, root.output_messages, root.attributes, root.environment,
       ARRAY(SELECT s.span_id FROM spans s
             WHERE s.project_id = page.project_id AND s.trace_id = page.trace_id
               AND s.start_time BETWEEN page.start_time AND page.end_time
             ORDER BY s.start_time, s.span_id) AS observation_ids,
       ARRAY(SELECT DISTINCT tag FROM spans s CROSS JOIN LATERAL unnest(s.tags) AS tag
             WHERE s.project_id = page.project_id AND s.trace_id = page.trace_id
               AND s.start_time BETWEEN page.start_time AND page.end_time
             ORDER BY tag) AS tags
FROM page
LEFT JOIN LATERAL (
    SELECT s.input_messages, s.output_messages, s.attributes,
           coalesce(s.resource_attributes ->> 'deployment.environment.name',
                    s.resource_attributes ->> 'deployment.environment', 'default') AS environment
    FROM spans s
    WHERE s.project_id = page.project_id AND s.trace_id = page.trace_id
      AND s.start_time BETWEEN page.start_time AND page.end_time
    ORDER BY (s.span_id = page.root_span_id) DESC, s.start_time
    LIMIT 1
) AS root ON true
ORDER BY {order_page}, page.trace_id
