-- Traces per project and hour of their start, kept by the storage writer (and by retention)
-- in the transactions that create, move or delete traces, so that totals over long ranges
-- (/v1/stats) add up hours instead of counting trace rows. See services/storage/trace_counts.py
-- and docs/adr/0018-trace-counts.md.

-- The hour a trace is counted in; NULL for a trace not counted yet (the writer counts it the
-- next time it touches the trace).
ALTER TABLE traces ADD COLUMN counted_hour timestamptz;

CREATE TABLE trace_counts_1h (
    project_id    text NOT NULL,
    bucket_start  timestamptz NOT NULL,
    trace_count   bigint NOT NULL,
    PRIMARY KEY (project_id, bucket_start)
);

-- The traces stored so far, counted where they start now. ALTER TABLE holds the table's
-- exclusive lock until the migration commits: writers neither miss nor double-count a trace.
UPDATE traces
SET counted_hour = date_bin('1 hour', start_time, TIMESTAMPTZ '2000-01-01 00:00:00+00');
INSERT INTO trace_counts_1h (project_id, bucket_start, trace_count)
SELECT project_id, counted_hour, count(*) FROM traces GROUP BY project_id, counted_hour;
