-- Empties the stored telemetry: every span, trace, metric point and log record, and every
-- project but `default`.
-- The schema and the migrations record stay. Run against a migrated database:
--   docker compose run --rm dev-utils sh -c "psql < /seed-data/reset.sql"
--   make reset     (DATABASE_URL, or the database of `make run`)

BEGIN;

TRUNCATE spans, traces, trace_counts_1h, metric_points, log_records;
DELETE FROM projects WHERE project_id <> 'default';
INSERT INTO projects (project_id, name) VALUES ('default', 'Default project')
ON CONFLICT (project_id) DO NOTHING;

COMMIT;
