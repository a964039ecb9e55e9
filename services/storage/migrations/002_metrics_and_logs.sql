-- Metric data points and log records, one row each, idempotent like spans.
-- Both become TimescaleDB hypertables on `time` when the extension is available.

CREATE TABLE metric_points (
    project_id                text NOT NULL,
    time                      timestamptz NOT NULL,
    -- Identity of the point: a hash of resource, scope, metric name and type, point attributes,
    -- start time and time (services/storage/metric_points.py). A redelivered point matches it.
    point_hash                bytea NOT NULL,
    metric_name               text NOT NULL,
    -- gauge, sum, histogram, exponential_histogram or summary.
    metric_type               text NOT NULL,
    description               text NOT NULL DEFAULT '',
    unit                      text NOT NULL DEFAULT '',
    start_time                timestamptz,
    -- The nanosecond source values, exactly as received (start 0 when not sent).
    time_unix_nano            bigint NOT NULL,
    start_time_unix_nano      bigint NOT NULL,
    service_name              text NOT NULL,
    attributes                jsonb NOT NULL DEFAULT '{}',
    flags                     bigint NOT NULL DEFAULT 0,
    -- Gauge and sum: the value as a double, and exactly when it was sent as an integer.
    value                     double precision,
    value_int                 bigint,
    -- Sum and histograms: 1 delta, 2 cumulative.
    aggregation_temporality   smallint,
    is_monotonic              boolean,
    -- Histograms and summary.
    count                     bigint,
    sum                       double precision,
    min                       double precision,
    max                       double precision,
    bucket_counts             bigint[],
    explicit_bounds           double precision[],
    -- Exponential histogram.
    scale                     integer,
    zero_count                bigint,
    zero_threshold            double precision,
    positive_offset           integer,
    positive_bucket_counts    bigint[],
    negative_offset           integer,
    negative_bucket_counts    bigint[],
    -- Summary: quantiles[i] has the value quantile_values[i].
    quantiles                 double precision[],
    quantile_values           double precision[],
    exemplars                 jsonb NOT NULL DEFAULT '[]',
    metadata                  jsonb NOT NULL DEFAULT '{}',
    resource_attributes       jsonb NOT NULL DEFAULT '{}',
    resource_schema_url       text NOT NULL DEFAULT '',
    scope_name                text NOT NULL DEFAULT '',
    scope_version             text NOT NULL DEFAULT '',
    scope_attributes          jsonb NOT NULL DEFAULT '{}',
    received_at               timestamptz NOT NULL,
    stored_at                 timestamptz NOT NULL DEFAULT now()
);

-- The partitioning column is part of the key, as hypertables require.
CREATE UNIQUE INDEX metric_points_identity ON metric_points (project_id, point_hash, time);
CREATE INDEX metric_points_project_name_time ON metric_points (project_id, metric_name, time DESC);

CREATE TABLE log_records (
    project_id                text NOT NULL,
    -- The event's time; its observed time when the source did not know it; else its receipt.
    time                      timestamptz NOT NULL,
    -- Identity of the record: a hash of resource, scope, trace and span ids, times, severity,
    -- event name, body and attributes (services/storage/log_records.py).
    record_hash               bytea NOT NULL,
    time_unix_nano            bigint NOT NULL,
    observed_time_unix_nano   bigint NOT NULL,
    -- Hex like spans.trace_id / spans.span_id (NULL when the record belongs to no span), so
    -- that GenAI content events sent as logs join their spans.
    trace_id                  text,
    span_id                   text,
    severity_number           smallint NOT NULL DEFAULT 0,
    severity_text             text NOT NULL DEFAULT '',
    event_name                text NOT NULL DEFAULT '',
    body                      jsonb,
    attributes                jsonb NOT NULL DEFAULT '{}',
    dropped_attributes_count  bigint NOT NULL DEFAULT 0,
    flags                     bigint NOT NULL DEFAULT 0,
    service_name              text NOT NULL,
    resource_attributes       jsonb NOT NULL DEFAULT '{}',
    resource_schema_url       text NOT NULL DEFAULT '',
    scope_name                text NOT NULL DEFAULT '',
    scope_version             text NOT NULL DEFAULT '',
    scope_attributes          jsonb NOT NULL DEFAULT '{}',
    received_at               timestamptz NOT NULL,
    stored_at                 timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX log_records_identity ON log_records (project_id, record_hash, time);
CREATE INDEX log_records_project_time ON log_records (project_id, time DESC);
CREATE INDEX log_records_project_trace ON log_records (project_id, trace_id, span_id)
    WHERE trace_id IS NOT NULL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        PERFORM create_hypertable('metric_points', 'time',
                                  chunk_time_interval => INTERVAL '1 day',
                                  create_default_indexes => false);
        PERFORM create_hypertable('log_records', 'time',
                                  chunk_time_interval => INTERVAL '1 day',
                                  create_default_indexes => false);
    END IF;
END
$$;
