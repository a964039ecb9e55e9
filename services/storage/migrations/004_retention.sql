-- Retention overrides per project, and on TimescaleDB the compression of raw spans and their
-- retention policy. Global retention comes from the storage service's environment; the service
-- sets the policies' drop_after to it and runs the deletions that policies cannot express.

-- A row shortens one data class's retention for one project (a longer one is capped at the
-- global setting). The minimum keeps deletions outside every rollup refresh window (migration
-- 005), so that a refresh never recomputes rollups from rows that retention already removed.
CREATE TABLE project_retention (
    project_id      text NOT NULL,
    data_class      text NOT NULL CHECK (data_class IN (
                        'spans', 'rollup_1m', 'rollup_1h', 'rollup_1d', 'metric_points',
                        'log_records')),
    retention_days  integer NOT NULL CHECK (retention_days >= 4),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, data_class)
);

DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        -- One compressed batch holds one project's (and model's) spans in time order; the
        -- identity columns complete the order so that uniqueness checks stay cheap.
        ALTER TABLE spans SET (
            timescaledb.compress,
            timescaledb.compress_segmentby = 'project_id, request_model',
            timescaledb.compress_orderby = 'start_time DESC, trace_id, span_id');
        PERFORM add_compression_policy('spans', compress_after => INTERVAL '7 days',
                                       if_not_exists => true);
        PERFORM add_retention_policy('spans', drop_after => INTERVAL '30 days',
                                     if_not_exists => true);
    END IF;
END
$$;
