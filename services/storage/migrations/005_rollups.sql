-- migrate: no-transaction
-- Rollups of LLM calls (spans with llm_is_counted) per minute, hour and day, by project,
-- provider, model, operation, service and environment: usage_1m/1h/1d and latency histograms
-- latency_hist_1m/1h/1d, under the same names and columns on both storage paths.
-- TimescaleDB: continuous aggregates, 1m over spans, 1h over 1m, 1d over 1h, created WITH NO
-- DATA (hence outside a transaction) and refreshed by policies. PostgreSQL: tables the storage
-- service folds each newly inserted batch into (services/storage/rollups.py).
-- See docs/adr/0005-rollups-and-percentiles.md. Statements are separated by lines holding ';'.

-- Histogram bucket of a latency in milliseconds: ceil(log_1.05(ms)). Each bucket spans a factor
-- of 1.05; latencies under one microsecond share the lowest bucket.
CREATE OR REPLACE FUNCTION latency_bucket(ms double precision) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT ceil(ln(greatest(ms, 0.001)) / ln(1.05::double precision))::integer $$
;
-- The latency a bucket stands for: 2 * 1.05^i / 2.05, within 0.05 / 2.05 (2.44 %) of every
-- latency in bucket i, i.e. of (1.05^(i-1), 1.05^i].
CREATE OR REPLACE FUNCTION latency_bucket_value(bucket_idx integer) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT 2.0 * power(1.05::double precision, bucket_idx) / 2.05 $$
;
-- The environment a span's resource names (current and older semantic convention keys).
CREATE OR REPLACE FUNCTION span_environment(resource_attributes jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(resource_attributes ->> 'deployment.environment.name',
                    resource_attributes ->> 'deployment.environment', '')
$$
;
DO $$
BEGIN
    IF storage_backend() = 'postgresql' THEN
        CREATE TABLE IF NOT EXISTS usage_1m (
            bucket_start        timestamptz NOT NULL,
            project_id          text NOT NULL,
            provider            text NOT NULL,
            model               text NOT NULL,
            operation           text NOT NULL,
            service_name        text NOT NULL,
            environment         text NOT NULL,
            requests            bigint NOT NULL,
            errors              bigint NOT NULL,
            input_tokens        bigint NOT NULL,
            output_tokens       bigint NOT NULL,
            cache_read_tokens   bigint NOT NULL,
            cache_write_tokens  bigint NOT NULL,
            reasoning_tokens    bigint NOT NULL,
            cost_usd            numeric NOT NULL,
            unpriced_requests   bigint NOT NULL,
            duration_ms_sum     double precision NOT NULL,
            duration_ms_max     double precision NOT NULL,
            ttft_ms_sum         double precision NOT NULL,
            ttft_count          bigint NOT NULL,
            PRIMARY KEY (bucket_start, project_id, provider, model, operation, service_name,
                         environment)
        );
        CREATE INDEX IF NOT EXISTS usage_1m_project ON usage_1m (project_id, bucket_start);
        CREATE TABLE IF NOT EXISTS usage_1h (LIKE usage_1m INCLUDING ALL);
        CREATE TABLE IF NOT EXISTS usage_1d (LIKE usage_1m INCLUDING ALL);

        CREATE TABLE IF NOT EXISTS latency_hist_1m (
            bucket_start        timestamptz NOT NULL,
            project_id          text NOT NULL,
            provider            text NOT NULL,
            model               text NOT NULL,
            operation           text NOT NULL,
            service_name        text NOT NULL,
            environment         text NOT NULL,
            metric              text NOT NULL CHECK (metric IN ('duration', 'ttft')),
            bucket_idx          integer NOT NULL,
            count               bigint NOT NULL,
            PRIMARY KEY (bucket_start, project_id, provider, model, operation, service_name,
                         environment, metric, bucket_idx)
        );
        CREATE INDEX IF NOT EXISTS latency_hist_1m_project
            ON latency_hist_1m (project_id, metric, bucket_start);
        CREATE TABLE IF NOT EXISTS latency_hist_1h (LIKE latency_hist_1m INCLUDING ALL);
        CREATE TABLE IF NOT EXISTS latency_hist_1d (LIKE latency_hist_1m INCLUDING ALL);

        -- Spans stored before this migration: from now on the service folds each new batch.
        INSERT INTO usage_1m
        SELECT date_bin('1 minute', start_time, '2000-01-01 00:00:00+00'), project_id,
               coalesce(provider, ''), coalesce(request_model, response_model, ''),
               coalesce(operation, ''), service_name, span_environment(resource_attributes),
               count(*), count(*) FILTER (WHERE is_error OR status_code = 2),
               coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
               coalesce(sum(cache_read_tokens), 0), coalesce(sum(cache_write_tokens), 0),
               coalesce(sum(reasoning_tokens), 0), coalesce(sum(cost_usd), 0),
               count(*) FILTER (WHERE cost_usd IS NULL), sum(duration_ms), max(duration_ms),
               coalesce(sum(time_to_first_token_ms), 0), count(time_to_first_token_ms)
        FROM spans WHERE llm_is_counted
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT DO NOTHING;
        INSERT INTO latency_hist_1m
        SELECT date_bin('1 minute', start_time, '2000-01-01 00:00:00+00'), project_id,
               coalesce(provider, ''), coalesce(request_model, response_model, ''),
               coalesce(operation, ''), service_name, span_environment(resource_attributes),
               m.metric, latency_bucket(m.value_ms), count(*)
        FROM spans
        CROSS JOIN LATERAL (VALUES ('duration', duration_ms),
                                   ('ttft', time_to_first_token_ms)) AS m (metric, value_ms)
        WHERE llm_is_counted AND m.value_ms IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
        ON CONFLICT DO NOTHING;
        INSERT INTO usage_1h
        SELECT date_bin('1 hour', bucket_start, '2000-01-01 00:00:00+00'), project_id, provider,
               model, operation, service_name, environment, sum(requests), sum(errors),
               sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
               sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_usd),
               sum(unpriced_requests), sum(duration_ms_sum), max(duration_ms_max),
               sum(ttft_ms_sum), sum(ttft_count)
        FROM usage_1m GROUP BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT DO NOTHING;
        INSERT INTO usage_1d
        SELECT date_bin('1 day', bucket_start, '2000-01-01 00:00:00+00'), project_id, provider,
               model, operation, service_name, environment, sum(requests), sum(errors),
               sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
               sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_usd),
               sum(unpriced_requests), sum(duration_ms_sum), max(duration_ms_max),
               sum(ttft_ms_sum), sum(ttft_count)
        FROM usage_1h GROUP BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT DO NOTHING;
        INSERT INTO latency_hist_1h
        SELECT date_bin('1 hour', bucket_start, '2000-01-01 00:00:00+00'), project_id, provider,
               model, operation, service_name, environment, metric, bucket_idx, sum(count)
        FROM latency_hist_1m GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
        ON CONFLICT DO NOTHING;
        INSERT INTO latency_hist_1d
        SELECT date_bin('1 day', bucket_start, '2000-01-01 00:00:00+00'), project_id, provider,
               model, operation, service_name, environment, metric, bucket_idx, sum(count)
        FROM latency_hist_1h GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
        ON CONFLICT DO NOTHING;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE MATERIALIZED VIEW IF NOT EXISTS usage_1m
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 minute', start_time) AS bucket_start, project_id,
               coalesce(provider, '') AS provider,
               coalesce(request_model, response_model, '') AS model,
               coalesce(operation, '') AS operation, service_name,
               span_environment(resource_attributes) AS environment,
               count(*) AS requests,
               count(*) FILTER (WHERE is_error OR status_code = 2) AS errors,
               coalesce(sum(input_tokens), 0)::bigint AS input_tokens,
               coalesce(sum(output_tokens), 0)::bigint AS output_tokens,
               coalesce(sum(cache_read_tokens), 0)::bigint AS cache_read_tokens,
               coalesce(sum(cache_write_tokens), 0)::bigint AS cache_write_tokens,
               coalesce(sum(reasoning_tokens), 0)::bigint AS reasoning_tokens,
               coalesce(sum(cost_usd), 0)::numeric AS cost_usd,
               count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_requests,
               sum(duration_ms) AS duration_ms_sum, max(duration_ms) AS duration_ms_max,
               coalesce(sum(time_to_first_token_ms), 0) AS ttft_ms_sum,
               count(time_to_first_token_ms) AS ttft_count
        FROM spans WHERE llm_is_counted
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        WITH NO DATA;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE MATERIALIZED VIEW IF NOT EXISTS duration_hist_1m
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 minute', start_time) AS bucket_start, project_id,
               coalesce(provider, '') AS provider,
               coalesce(request_model, response_model, '') AS model,
               coalesce(operation, '') AS operation, service_name,
               span_environment(resource_attributes) AS environment,
               latency_bucket(duration_ms) AS bucket_idx, count(*) AS count
        FROM spans WHERE llm_is_counted
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        WITH NO DATA;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE MATERIALIZED VIEW IF NOT EXISTS ttft_hist_1m
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 minute', start_time) AS bucket_start, project_id,
               coalesce(provider, '') AS provider,
               coalesce(request_model, response_model, '') AS model,
               coalesce(operation, '') AS operation, service_name,
               span_environment(resource_attributes) AS environment,
               latency_bucket(time_to_first_token_ms) AS bucket_idx, count(*) AS count
        FROM spans WHERE llm_is_counted AND time_to_first_token_ms IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        WITH NO DATA;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE MATERIALIZED VIEW IF NOT EXISTS usage_1h
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 hour', bucket_start) AS bucket_start, project_id,
               provider, model, operation, service_name, environment,
               sum(requests)::bigint AS requests, sum(errors)::bigint AS errors,
               sum(input_tokens)::bigint AS input_tokens,
               sum(output_tokens)::bigint AS output_tokens,
               sum(cache_read_tokens)::bigint AS cache_read_tokens,
               sum(cache_write_tokens)::bigint AS cache_write_tokens,
               sum(reasoning_tokens)::bigint AS reasoning_tokens, sum(cost_usd) AS cost_usd,
               sum(unpriced_requests)::bigint AS unpriced_requests,
               sum(duration_ms_sum) AS duration_ms_sum, max(duration_ms_max) AS duration_ms_max,
               sum(ttft_ms_sum) AS ttft_ms_sum, sum(ttft_count)::bigint AS ttft_count
        FROM usage_1m
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        WITH NO DATA;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE MATERIALIZED VIEW IF NOT EXISTS duration_hist_1h
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 hour', bucket_start) AS bucket_start, project_id,
               provider, model, operation, service_name, environment, bucket_idx,
               sum(count)::bigint AS count
        FROM duration_hist_1m
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        WITH NO DATA;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE MATERIALIZED VIEW IF NOT EXISTS ttft_hist_1h
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 hour', bucket_start) AS bucket_start, project_id,
               provider, model, operation, service_name, environment, bucket_idx,
               sum(count)::bigint AS count
        FROM ttft_hist_1m
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        WITH NO DATA;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE MATERIALIZED VIEW IF NOT EXISTS usage_1d
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 day', bucket_start) AS bucket_start, project_id,
               provider, model, operation, service_name, environment,
               sum(requests)::bigint AS requests, sum(errors)::bigint AS errors,
               sum(input_tokens)::bigint AS input_tokens,
               sum(output_tokens)::bigint AS output_tokens,
               sum(cache_read_tokens)::bigint AS cache_read_tokens,
               sum(cache_write_tokens)::bigint AS cache_write_tokens,
               sum(reasoning_tokens)::bigint AS reasoning_tokens, sum(cost_usd) AS cost_usd,
               sum(unpriced_requests)::bigint AS unpriced_requests,
               sum(duration_ms_sum) AS duration_ms_sum, max(duration_ms_max) AS duration_ms_max,
               sum(ttft_ms_sum) AS ttft_ms_sum, sum(ttft_count)::bigint AS ttft_count
        FROM usage_1h
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        WITH NO DATA;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE MATERIALIZED VIEW IF NOT EXISTS duration_hist_1d
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 day', bucket_start) AS bucket_start, project_id,
               provider, model, operation, service_name, environment, bucket_idx,
               sum(count)::bigint AS count
        FROM duration_hist_1h
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        WITH NO DATA;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE MATERIALIZED VIEW IF NOT EXISTS ttft_hist_1d
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 day', bucket_start) AS bucket_start, project_id,
               provider, model, operation, service_name, environment, bucket_idx,
               sum(count)::bigint AS count
        FROM ttft_hist_1h
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        WITH NO DATA;
    END IF;
END
$$
;
-- One histogram relation per level, as on PostgreSQL: a continuous aggregate cannot emit two
-- rows (duration, ttft) per span with built-in aggregates alone, so each metric has its own.
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE OR REPLACE VIEW latency_hist_1m AS
            SELECT bucket_start, project_id, provider, model, operation, service_name,
                   environment, 'duration'::text AS metric, bucket_idx, count
            FROM duration_hist_1m
            UNION ALL
            SELECT bucket_start, project_id, provider, model, operation, service_name,
                   environment, 'ttft'::text, bucket_idx, count
            FROM ttft_hist_1m;
        CREATE OR REPLACE VIEW latency_hist_1h AS
            SELECT bucket_start, project_id, provider, model, operation, service_name,
                   environment, 'duration'::text AS metric, bucket_idx, count
            FROM duration_hist_1h
            UNION ALL
            SELECT bucket_start, project_id, provider, model, operation, service_name,
                   environment, 'ttft'::text, bucket_idx, count
            FROM ttft_hist_1h;
        CREATE OR REPLACE VIEW latency_hist_1d AS
            SELECT bucket_start, project_id, provider, model, operation, service_name,
                   environment, 'duration'::text AS metric, bucket_idx, count
            FROM duration_hist_1d
            UNION ALL
            SELECT bucket_start, project_id, provider, model, operation, service_name,
                   environment, 'ttft'::text, bucket_idx, count
            FROM ttft_hist_1d;
    END IF;
END
$$
;
-- Refresh windows: each level refreshes the last 1, 2 and 3 days; queries add what is not yet
-- materialised (real-time aggregation). Retention of any data class is at least 4 days
-- (project_retention's CHECK, the service's settings), older than every window. The service
-- sets the retention policies' drop_after from its environment at start-up.
DO $$
DECLARE
    name text;
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        FOREACH name IN ARRAY ARRAY['usage_1m', 'duration_hist_1m', 'ttft_hist_1m'] LOOP
            -- Retention drops whole chunks: daily ones keep the 1m level within a day of its
            -- setting (the default, ten times the spans' chunk, would keep it 10 days longer).
            PERFORM set_chunk_time_interval(name, INTERVAL '1 day');
            PERFORM add_continuous_aggregate_policy(name, start_offset => INTERVAL '1 day',
                end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute',
                if_not_exists => true);
            PERFORM add_retention_policy(name, drop_after => INTERVAL '7 days',
                                         if_not_exists => true);
        END LOOP;
        FOREACH name IN ARRAY ARRAY['usage_1h', 'duration_hist_1h', 'ttft_hist_1h'] LOOP
            PERFORM add_continuous_aggregate_policy(name, start_offset => INTERVAL '2 days',
                end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '10 minutes',
                if_not_exists => true);
            PERFORM add_retention_policy(name, drop_after => INTERVAL '90 days',
                                         if_not_exists => true);
        END LOOP;
        FOREACH name IN ARRAY ARRAY['usage_1d', 'duration_hist_1d', 'ttft_hist_1d'] LOOP
            PERFORM add_continuous_aggregate_policy(name, start_offset => INTERVAL '3 days',
                end_offset => INTERVAL '1 day', schedule_interval => INTERVAL '1 hour',
                if_not_exists => true);
            PERFORM add_retention_policy(name, drop_after => INTERVAL '730 days',
                                         if_not_exists => true);
        END LOOP;
    END IF;
END
$$
;
-- Quantiles of histogram rows given as parallel arrays (grouped or not, in any order), by
-- nearest rank as percentile_disc: the bucket holding rank ceil(q * n), read as its value.
CREATE OR REPLACE FUNCTION log_histogram_quantiles(
    bucket_idx integer[], counts bigint[], quantiles double precision[]
) RETURNS double precision[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH cumulative AS (
        SELECT h.b, sum(h.n) OVER (ORDER BY h.b) AS running, sum(h.n) OVER () AS total
        FROM unnest(bucket_idx, counts) AS h (b, n)
    )
    SELECT array_agg(
        (SELECT latency_bucket_value(min(c.b)) FROM cumulative c
         WHERE c.running >= greatest(ceil(q.q * c.total::double precision), 1))
        ORDER BY q.ord)
    FROM unnest(quantiles) WITH ORDINALITY AS q (q, ord)
$$
;
-- The rollup rows that cover [from_time, to_time) at minute resolution (partial minutes at the
-- edges count whole): whole days from the 1d level, whole hours from 1h, the rest from 1m.
CREATE OR REPLACE FUNCTION rollup_tiles(from_time timestamptz, to_time timestamptz)
RETURNS TABLE (level text, tile_start timestamptz, tile_end timestamptz)
LANGUAGE plpgsql STABLE ROWS 5 AS $$
DECLARE
    origin constant timestamptz := '2000-01-01 00:00:00+00';
    tick constant interval := INTERVAL '1 microsecond';
    minute_lo timestamptz := date_bin('1 minute', from_time, origin);
    minute_hi timestamptz := date_bin('1 minute', to_time - tick, origin) + INTERVAL '1 minute';
    hour_lo timestamptz := date_bin('1 hour', minute_lo - tick, origin) + INTERVAL '1 hour';
    hour_hi timestamptz := date_bin('1 hour', minute_hi, origin);
    day_lo timestamptz;
    day_hi timestamptz;
BEGIN
    IF to_time <= from_time THEN
        RETURN;
    END IF;
    IF hour_lo > hour_hi THEN
        hour_lo := minute_hi;
        hour_hi := minute_hi;
    END IF;
    day_lo := date_bin('1 day', hour_lo - tick, origin) + INTERVAL '1 day';
    day_hi := date_bin('1 day', hour_hi, origin);
    IF day_lo > day_hi THEN
        day_lo := hour_hi;
        day_hi := hour_hi;
    END IF;
    RETURN QUERY
        SELECT t.level, t.tile_start, t.tile_end
        FROM (VALUES ('1d', day_lo, day_hi), ('1h', hour_lo, day_lo), ('1h', day_hi, hour_hi),
                     ('1m', minute_lo, hour_lo), ('1m', hour_hi, minute_hi))
             AS t (level, tile_start, tile_end)
        WHERE t.tile_start < t.tile_end;
END
$$
;
-- The latency histogram (bucket_idx, count) of one project's LLM calls in a time range; NULL
-- filters match every value. metric: 'duration' or 'ttft' (time to first token). Each tile is
-- read by an index range scan of its own level (a lateral subquery per tile).
CREATE OR REPLACE FUNCTION latency_histogram(
    project_id text, metric text, from_time timestamptz, to_time timestamptz,
    provider text DEFAULT NULL, model text DEFAULT NULL, operation text DEFAULT NULL,
    service_name text DEFAULT NULL, environment text DEFAULT NULL
) RETURNS TABLE (bucket_idx integer, count bigint)
LANGUAGE sql STABLE AS $$
    SELECT c.bucket_idx, sum(c.count)::bigint
    FROM rollup_tiles(from_time, to_time) AS t
    CROSS JOIN LATERAL (
        SELECT h.bucket_idx, h.count, h.provider, h.model, h.operation, h.service_name,
               h.environment
        FROM latency_hist_1m h
        WHERE t.level = '1m' AND h.project_id = latency_histogram.project_id
          AND h.metric = latency_histogram.metric
          AND h.bucket_start >= t.tile_start AND h.bucket_start < t.tile_end
        UNION ALL
        SELECT h.bucket_idx, h.count, h.provider, h.model, h.operation, h.service_name,
               h.environment
        FROM latency_hist_1h h
        WHERE t.level = '1h' AND h.project_id = latency_histogram.project_id
          AND h.metric = latency_histogram.metric
          AND h.bucket_start >= t.tile_start AND h.bucket_start < t.tile_end
        UNION ALL
        SELECT h.bucket_idx, h.count, h.provider, h.model, h.operation, h.service_name,
               h.environment
        FROM latency_hist_1d h
        WHERE t.level = '1d' AND h.project_id = latency_histogram.project_id
          AND h.metric = latency_histogram.metric
          AND h.bucket_start >= t.tile_start AND h.bucket_start < t.tile_end
    ) AS c
    WHERE (latency_histogram.provider IS NULL OR c.provider = latency_histogram.provider)
      AND (latency_histogram.model IS NULL OR c.model = latency_histogram.model)
      AND (latency_histogram.operation IS NULL OR c.operation = latency_histogram.operation)
      AND (latency_histogram.service_name IS NULL
           OR c.service_name = latency_histogram.service_name)
      AND (latency_histogram.environment IS NULL
           OR c.environment = latency_histogram.environment)
    GROUP BY c.bucket_idx
    ORDER BY c.bucket_idx
$$
;
-- p50, p95 and p99 in milliseconds (each within 2.44 % of the exact nearest-rank value) and the
-- number of calls, for one project's LLM calls in a time range; filters as latency_histogram.
CREATE OR REPLACE FUNCTION latency_percentiles(
    project_id text, metric text, from_time timestamptz, to_time timestamptz,
    provider text DEFAULT NULL, model text DEFAULT NULL, operation text DEFAULT NULL,
    service_name text DEFAULT NULL, environment text DEFAULT NULL
) RETURNS TABLE (calls bigint, p50_ms double precision, p95_ms double precision,
                 p99_ms double precision)
LANGUAGE sql STABLE AS $$
    WITH q AS (
        SELECT coalesce(sum(h.count), 0)::bigint AS calls,
               log_histogram_quantiles(array_agg(h.bucket_idx), array_agg(h.count),
                                       ARRAY[0.5, 0.95, 0.99]) AS v
        FROM latency_histogram(
            latency_percentiles.project_id, latency_percentiles.metric,
            latency_percentiles.from_time, latency_percentiles.to_time,
            latency_percentiles.provider, latency_percentiles.model,
            latency_percentiles.operation, latency_percentiles.service_name,
            latency_percentiles.environment) AS h
    )
    SELECT calls, v[1], v[2], v[3] FROM q
$$
