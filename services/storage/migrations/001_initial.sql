-- Projects, spans with canonical LLM columns, and one row per trace.
-- Spans become a TimescaleDB hypertable when the extension is available; on plain PostgreSQL a
-- table partitioned by day on start_time, whose partitions the storage service creates.

CREATE TABLE projects (
    project_id  text PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO projects (project_id, name) VALUES ('default', 'Default project');

-- The column layout of spans, declared once: both storage paths create spans LIKE it.
CREATE TABLE span_layout (
    project_id                text NOT NULL,
    trace_id                  text NOT NULL,
    span_id                   text NOT NULL,
    parent_span_id            text,
    name                      text NOT NULL,
    kind                      smallint NOT NULL,
    start_time                timestamptz NOT NULL,
    end_time                  timestamptz NOT NULL,
    -- The nanosecond source values, exactly as received.
    start_time_unix_nano      bigint NOT NULL,
    end_time_unix_nano        bigint NOT NULL,
    duration_ms               double precision NOT NULL,
    status_code               smallint NOT NULL,
    status_message            text NOT NULL DEFAULT '',
    trace_state               text NOT NULL DEFAULT '',
    flags                     bigint NOT NULL DEFAULT 0,
    service_name              text NOT NULL,
    attributes                jsonb NOT NULL DEFAULT '{}',
    events                    jsonb NOT NULL DEFAULT '[]',
    links                     jsonb NOT NULL DEFAULT '[]',
    dropped_attributes_count  integer NOT NULL DEFAULT 0,
    dropped_events_count      integer NOT NULL DEFAULT 0,
    dropped_links_count       integer NOT NULL DEFAULT 0,
    resource_attributes       jsonb NOT NULL DEFAULT '{}',
    resource_schema_url       text NOT NULL DEFAULT '',
    scope_name                text NOT NULL DEFAULT '',
    scope_version             text NOT NULL DEFAULT '',
    scope_attributes          jsonb NOT NULL DEFAULT '{}',
    received_at               timestamptz NOT NULL,
    stored_at                 timestamptz NOT NULL DEFAULT now(),
    -- Canonical LLM fields (NULL for spans that are not part of an LLM application).
    llm_convention            text,
    llm_span_type             text,
    llm_is_counted            boolean,
    provider                  text,
    provider_raw              text,
    operation                 text,
    request_model             text,
    response_model            text,
    response_id               text,
    input_tokens              bigint,
    output_tokens             bigint,
    total_tokens              bigint,
    cache_read_tokens         bigint,
    cache_write_tokens        bigint,
    reasoning_tokens          bigint,
    input_tokens_provider_raw bigint,
    usage_source              text,
    cost_usd                  numeric(24, 12),
    input_cost_usd            numeric(24, 12),
    output_cost_usd           numeric(24, 12),
    cache_read_cost_usd       numeric(24, 12),
    cache_write_cost_usd      numeric(24, 12),
    reported_cost_usd         numeric(24, 12),
    price_source              text,
    price_model               text,
    price_version             text,
    finish_reasons            text[],
    finish_reasons_raw        text[],
    time_to_first_token_ms    double precision,
    is_streaming              boolean,
    session_id                text,
    user_id                   text,
    tags                      text[],
    system_instructions       jsonb,
    input_messages            jsonb,
    output_messages           jsonb,
    tool_calls                jsonb,
    tool_definitions          jsonb,
    is_error                  boolean,
    error_type                text,
    error_message             text,
    llm_field_sources         jsonb
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        CREATE TABLE spans (LIKE span_layout INCLUDING DEFAULTS);
        PERFORM create_hypertable('spans', 'start_time',
                                  chunk_time_interval => INTERVAL '1 day',
                                  create_default_indexes => false);
    ELSE
        CREATE TABLE spans (LIKE span_layout INCLUDING DEFAULTS) PARTITION BY RANGE (start_time);
        -- Rows outside the days the service keeps partitions for (clocks far off, late data
        -- older than retention) land here; retention deletes them by time.
        CREATE TABLE spans_default PARTITION OF spans DEFAULT;
    END IF;
END
$$;
DROP TABLE span_layout;

-- Which storage path this database took: 'timescaledb' (spans is a hypertable) or 'postgresql'
-- (spans is partitioned by day). Later migrations and the storage service ask this function.
CREATE FUNCTION storage_backend() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE relkind WHEN 'p' THEN 'postgresql' ELSE 'timescaledb' END
    FROM pg_class WHERE oid = 'spans'::regclass
$$;

-- Idempotency: a redelivered span changes nothing. The partitioning column is part of the key,
-- as hypertables and partitioned tables require.
CREATE UNIQUE INDEX spans_identity ON spans (project_id, trace_id, span_id, start_time);
CREATE INDEX spans_project_time ON spans (project_id, start_time DESC);
CREATE INDEX spans_project_model_time ON spans (project_id, request_model, start_time DESC)
    WHERE llm_is_counted;
CREATE INDEX spans_project_session ON spans (project_id, session_id, start_time)
    WHERE session_id IS NOT NULL;

-- One row per trace, kept up to date from the spans inserted for the first time, in any order.
CREATE TABLE traces (
    project_id         text NOT NULL,
    trace_id           text NOT NULL,
    start_time         timestamptz NOT NULL,
    end_time           timestamptz NOT NULL,
    root_span_id       text,
    root_name          text,
    service_name       text,
    span_count         integer NOT NULL,
    error_count        integer NOT NULL,
    llm_call_count     integer NOT NULL,
    input_tokens       bigint NOT NULL DEFAULT 0,
    output_tokens      bigint NOT NULL DEFAULT 0,
    cost_usd           numeric(24, 12) NOT NULL DEFAULT 0,
    session_id         text,
    user_id            text,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, trace_id)
);
CREATE INDEX traces_project_start ON traces (project_id, start_time DESC, trace_id DESC);
-- Retention deletes traces by age across projects.
CREATE INDEX traces_start ON traces (start_time);
