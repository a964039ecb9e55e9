-- Empties the stored telemetry: every span, trace, metric point and log record, their rollups,
-- and every project but `default`.
-- The schema and the migrations record stay. Run against a migrated database:
--   docker compose run --rm dev-utils sh -c "psql < /seed-data/reset.sql"
--   make reset     (DATABASE_URL, or the database of `make run`)

BEGIN;

TRUNCATE spans, traces, trace_counts_1h, metric_points, log_records;
-- The rollups storage keeps on plain PostgreSQL. (On TimescaleDB they are continuous aggregates
-- of the spans: their next refresh of a range recomputes it from what is left.)
DO $$
DECLARE
    rollup text;
BEGIN
    IF storage_backend() = 'postgresql' THEN
        FOREACH rollup IN ARRAY ARRAY['usage_1m', 'usage_1h', 'usage_1d', 'latency_hist_1m',
                                      'latency_hist_1h', 'latency_hist_1d', 'sampled_out_1m',
                                      'sampled_out_1h', 'sampled_out_1d'] LOOP
            EXECUTE format('TRUNCATE %I', rollup);
        END LOOP;
    END IF;
END
$$;
DELETE FROM projects WHERE project_id <> 'default';
INSERT INTO projects (project_id, name) VALUES ('default', 'Default project')
ON CONFLICT (project_id) DO NOTHING;

COMMIT;
