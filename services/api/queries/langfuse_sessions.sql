-- Langfuse GET /api/public/sessions: sessions of one project created in the range (their
-- first trace's start), newest first, one page by offset with the total count.
WITH sessions AS (
    SELECT session_id, min(start_time) AS created_at
    FROM traces
    WHERE project_id = %(project_id)s AND session_id IS NOT NULL
      AND (%(session)s::text IS NULL OR session_id = %(session)s::text)
    GROUP BY session_id
)
SELECT session_id, created_at, count(*) OVER () AS total_items
FROM sessions
WHERE created_at >= %(from)s AND created_at < %(to)s
ORDER BY created_at DESC, session_id
LIMIT %(limit)s OFFSET %(offset)s
