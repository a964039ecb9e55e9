-- migrate: no-transaction
-- Sampling weights. The collector's sample step keeps a share of traces and marks each span it
-- kept by that share with `llmobs.sample_weight` = 1/rate; spans kept by a rule (errors, slow,
-- expensive) carry none. spans.sample_weight holds it (NULL: weight 1, nothing sampled away).
-- The usage rollups keep counting stored calls exactly; sampled_out_1m/1h/1d hold what the
-- weighted calls stand for beyond themselves (weight - 1 times their requests, tokens and cost),
-- and usage_estimated_1m/1h/1d add both: the totals before sampling.
-- See docs/adr/0009-repricing-and-sampling-weights.md.
-- Statements are separated by lines holding ';'.

ALTER TABLE spans ADD COLUMN IF NOT EXISTS sample_weight numeric
;
-- Spans stored before this migration keep their weight in their attributes.
UPDATE spans SET sample_weight = (attributes ->> 'llmobs.sample_weight')::numeric
WHERE llm_is_counted AND sample_weight IS NULL
  AND jsonb_typeof(attributes -> 'llmobs.sample_weight') = 'number'
  AND (attributes ->> 'llmobs.sample_weight')::numeric > 1
;
DO $$
DECLARE
    level text;
    width text;
BEGIN
    IF storage_backend() = 'postgresql' THEN
        CREATE TABLE IF NOT EXISTS sampled_out_1m (
            bucket_start   timestamptz NOT NULL,
            project_id     text NOT NULL,
            provider       text NOT NULL,
            model          text NOT NULL,
            operation      text NOT NULL,
            service_name   text NOT NULL,
            environment    text NOT NULL,
            requests       numeric NOT NULL,
            input_tokens   numeric NOT NULL,
            output_tokens  numeric NOT NULL,
            cost_usd       numeric NOT NULL,
            PRIMARY KEY (bucket_start, project_id, provider, model, operation, service_name,
                         environment)
        );
        CREATE INDEX IF NOT EXISTS sampled_out_1m_project ON sampled_out_1m (project_id, bucket_start);
        CREATE TABLE IF NOT EXISTS sampled_out_1h (LIKE sampled_out_1m INCLUDING ALL);
        CREATE TABLE IF NOT EXISTS sampled_out_1d (LIKE sampled_out_1m INCLUDING ALL);
        FOREACH level IN ARRAY ARRAY['1m', '1h', '1d'] LOOP
            width := CASE level WHEN '1m' THEN '1 minute' WHEN '1h' THEN '1 hour' ELSE '1 day' END;
            EXECUTE format($f$
                INSERT INTO sampled_out_%s
                SELECT date_bin(%L, start_time, '2000-01-01 00:00:00+00'), project_id,
                       coalesce(provider, ''), coalesce(request_model, response_model, ''),
                       coalesce(operation, ''), service_name,
                       span_environment(resource_attributes), sum(sample_weight - 1),
                       coalesce(sum(input_tokens * (sample_weight - 1)), 0),
                       coalesce(sum(output_tokens * (sample_weight - 1)), 0),
                       coalesce(sum(cost_usd * (sample_weight - 1)), 0)
                FROM spans WHERE llm_is_counted AND sample_weight IS NOT NULL
                GROUP BY 1, 2, 3, 4, 5, 6, 7
                ON CONFLICT DO NOTHING
            $f$, level, width);
        END LOOP;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE MATERIALIZED VIEW IF NOT EXISTS sampled_out_1m
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 minute', start_time) AS bucket_start, project_id,
               coalesce(provider, '') AS provider,
               coalesce(request_model, response_model, '') AS model,
               coalesce(operation, '') AS operation, service_name,
               span_environment(resource_attributes) AS environment,
               sum(sample_weight - 1) AS requests,
               coalesce(sum(input_tokens * (sample_weight - 1)), 0) AS input_tokens,
               coalesce(sum(output_tokens * (sample_weight - 1)), 0) AS output_tokens,
               coalesce(sum(cost_usd * (sample_weight - 1)), 0) AS cost_usd
        FROM spans
        WHERE llm_is_counted AND sample_weight IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        WITH NO DATA;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE MATERIALIZED VIEW IF NOT EXISTS sampled_out_1h
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 hour', bucket_start) AS bucket_start, project_id,
               provider, model, operation, service_name, environment,
               sum(requests) AS requests, sum(input_tokens) AS input_tokens,
               sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd
        FROM sampled_out_1m
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        WITH NO DATA;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        CREATE MATERIALIZED VIEW IF NOT EXISTS sampled_out_1d
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT time_bucket(INTERVAL '1 day', bucket_start) AS bucket_start, project_id,
               provider, model, operation, service_name, environment,
               sum(requests) AS requests, sum(input_tokens) AS input_tokens,
               sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd
        FROM sampled_out_1h
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        WITH NO DATA;
    END IF;
END
$$
;
DO $$
BEGIN
    IF storage_backend() = 'timescaledb' THEN
        PERFORM set_chunk_time_interval('sampled_out_1m', INTERVAL '1 day');
        PERFORM add_continuous_aggregate_policy('sampled_out_1m', start_offset => INTERVAL '1 day',
            end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute',
            if_not_exists => true);
        PERFORM add_retention_policy('sampled_out_1m', drop_after => INTERVAL '7 days',
                                     if_not_exists => true);
        PERFORM add_continuous_aggregate_policy('sampled_out_1h', start_offset => INTERVAL '2 days',
            end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '10 minutes',
            if_not_exists => true);
        PERFORM add_retention_policy('sampled_out_1h', drop_after => INTERVAL '90 days',
                                     if_not_exists => true);
        PERFORM add_continuous_aggregate_policy('sampled_out_1d', start_offset => INTERVAL '3 days',
            end_offset => INTERVAL '1 day', schedule_interval => INTERVAL '1 hour',
            if_not_exists => true);
        PERFORM add_retention_policy('sampled_out_1d', drop_after => INTERVAL '730 days',
                                     if_not_exists => true);
    END IF;
END
$$
;
-- migrate: timescaledb-only
-- Weighted spans stored before this migration, materialised once (later ones by the policies).
CALL refresh_continuous_aggregate('sampled_out_1m', NULL, NULL)
;
-- migrate: timescaledb-only
CALL refresh_continuous_aggregate('sampled_out_1h', NULL, NULL)
;
-- migrate: timescaledb-only
CALL refresh_continuous_aggregate('sampled_out_1d', NULL, NULL)
;
-- The estimated totals before sampling, per level: stored calls plus what they stand for.
CREATE OR REPLACE VIEW usage_estimated_1m AS
SELECT bucket_start, project_id, provider, model, operation, service_name, environment,
       sum(requests) AS requests, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd
FROM (SELECT bucket_start, project_id, provider, model, operation, service_name, environment,
             requests::numeric, input_tokens::numeric, output_tokens::numeric, cost_usd
      FROM usage_1m
      UNION ALL
      SELECT bucket_start, project_id, provider, model, operation, service_name, environment,
             requests, input_tokens, output_tokens, cost_usd
      FROM sampled_out_1m) AS both_parts
GROUP BY 1, 2, 3, 4, 5, 6, 7
;
CREATE OR REPLACE VIEW usage_estimated_1h AS
SELECT bucket_start, project_id, provider, model, operation, service_name, environment,
       sum(requests) AS requests, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd
FROM (SELECT bucket_start, project_id, provider, model, operation, service_name, environment,
             requests::numeric, input_tokens::numeric, output_tokens::numeric, cost_usd
      FROM usage_1h
      UNION ALL
      SELECT bucket_start, project_id, provider, model, operation, service_name, environment,
             requests, input_tokens, output_tokens, cost_usd
      FROM sampled_out_1h) AS both_parts
GROUP BY 1, 2, 3, 4, 5, 6, 7
;
CREATE OR REPLACE VIEW usage_estimated_1d AS
SELECT bucket_start, project_id, provider, model, operation, service_name, environment,
       sum(requests) AS requests, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd
FROM (SELECT bucket_start, project_id, provider, model, operation, service_name, environment,
             requests::numeric, input_tokens::numeric, output_tokens::numeric, cost_usd
      FROM usage_1d
      UNION ALL
      SELECT bucket_start, project_id, provider, model, operation, service_name, environment,
             requests, input_tokens, output_tokens, cost_usd
      FROM sampled_out_1d) AS both_parts
GROUP BY 1, 2, 3, 4, 5, 6, 7
