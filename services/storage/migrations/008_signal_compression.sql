-- On TimescaleDB, compression of metric points and log records after 7 days, as for spans
-- (migration 004). Segments follow the reads: metric points by project and metric name (a
-- series is read by name over time), log records by project and service; within a segment rows
-- are in time order, newest first, completed by the identity hash so that the uniqueness check
-- of a redelivered row stays cheap. Lookups of a trace's log records (trace_id, span_id) keep
-- their btree index, which TimescaleDB turns into a per-batch filter on compressed chunks.

DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        ALTER TABLE metric_points SET (
            timescaledb.compress,
            timescaledb.compress_segmentby = 'project_id, metric_name',
            timescaledb.compress_orderby = 'time DESC, point_hash');
        PERFORM add_compression_policy('metric_points', compress_after => INTERVAL '7 days',
                                       if_not_exists => true);
        ALTER TABLE log_records SET (
            timescaledb.compress,
            timescaledb.compress_segmentby = 'project_id, service_name',
            timescaledb.compress_orderby = 'time DESC, record_hash');
        PERFORM add_compression_policy('log_records', compress_after => INTERVAL '7 days',
                                       if_not_exists => true);
    END IF;
END
$$;
