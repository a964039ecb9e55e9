-- Empties the stored telemetry: every span and trace, and every project but `default`.
-- The schema and the migrations record stay. Run against a migrated database:
--   docker compose run --rm dev-utils sh -c "psql < /seed-data/reset.sql"

BEGIN;

TRUNCATE spans, traces;
DELETE FROM projects WHERE project_id <> 'default';
INSERT INTO projects (project_id, name) VALUES ('default', 'Default project')
ON CONFLICT (project_id) DO NOTHING;

COMMIT;
