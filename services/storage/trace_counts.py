"""Traces per project and hour of their start (`trace_counts_1h`), kept by the writer in the
transaction that creates or moves a trace, and by retention when it deletes traces; so that
totals over long ranges count hours, not millions of trace rows (ADR 0018).

Every trace row remembers the hour it is counted in (`traces.counted_hour`). The writer's
upsert sets it when it creates a trace and leaves it alone when it updates one, so its RETURNING
shows the hour a trace was counted in next to the hour it now starts in: they differ when spans
that started earlier (often the root, exported last) moved the trace's start across an hour.
The counts then move in the same statement, and the moved rows' `counted_hour` right after,
while the upsert still holds their row locks: concurrent writers of one trace see each other's
moves in turn, so every trace is counted once, in the hour it starts in.
"""

from __future__ import annotations

from services.storage.rollups import ORIGIN

# A data-modifying CTE for the writer's upsert, after `folded` (its RETURNING has is_created,
# counted_hour and start_hour). Keys are sorted so that concurrent writers lock rows in order.
COUNT_TRACES = """
counted AS (
    INSERT INTO trace_counts_1h AS c (project_id, bucket_start, trace_count)
    SELECT project_id, bucket_start, sum(delta)
    FROM (SELECT project_id, start_hour AS bucket_start, 1 AS delta FROM folded
          WHERE counted_hour IS DISTINCT FROM start_hour OR is_created
          UNION ALL
          SELECT project_id, counted_hour, -1 FROM folded
          WHERE counted_hour IS DISTINCT FROM start_hour AND counted_hour IS NOT NULL
            AND NOT is_created) AS deltas
    GROUP BY project_id, bucket_start
    HAVING sum(delta) <> 0
    ORDER BY project_id, bucket_start
    ON CONFLICT (project_id, bucket_start)
    DO UPDATE SET trace_count = c.trace_count + excluded.trace_count
    RETURNING 1
)"""

# The traces the upsert moved to another hour (or found uncounted), as JSON for the writer.
MOVED_TRACES = """
SELECT coalesce(json_agg(json_build_array(project_id, trace_id)), '[]') FROM folded
WHERE counted_hour IS DISTINCT FROM start_hour AND NOT is_created
"""

RECORD_MOVES = f"""
UPDATE traces t SET counted_hour = date_bin('1 hour', t.start_time, {ORIGIN})
FROM unnest(%(projects)s::text[], %(traces)s::text[]) AS m (project_id, trace_id)
WHERE t.project_id = m.project_id AND t.trace_id = m.trace_id
"""

# Retention: delete a batch of traces and take them off their hours in the same statement.
DELETE_TRACES = """
WITH gone AS (
    DELETE FROM traces WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM traces WHERE {condition} LIMIT %(batch_rows)s))
    RETURNING project_id, counted_hour
), uncounted AS (
    UPDATE trace_counts_1h c SET trace_count = c.trace_count - g.traces
    FROM (SELECT project_id, counted_hour, count(*) AS traces FROM gone
          WHERE counted_hour IS NOT NULL GROUP BY project_id, counted_hour) g
    WHERE c.project_id = g.project_id AND c.bucket_start = g.counted_hour
)
SELECT count(*) FROM gone
"""
DROP_EMPTY_HOURS = "DELETE FROM trace_counts_1h WHERE trace_count <= 0"
