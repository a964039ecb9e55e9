-- The audit of cost re-pricing (POST /repricing on the storage admin API): one row per request,
-- dry runs included, with the exact prices used.
-- See docs/adr/0009-repricing-and-sampling-weights.md.

CREATE TABLE repricing_runs (
    run_id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id            text NOT NULL,
    window_start          timestamptz NOT NULL,
    window_end            timestamptz NOT NULL CHECK (window_end > window_start),
    -- Who asked: 'admin-key' (LLMOBS_ADMIN_KEY) or 'key:<key_id>' (a project key with the
    -- admin scope); never the secret.
    requested_by          text NOT NULL,
    -- Free text the caller gave (why the prices were recomputed).
    reason                text NOT NULL DEFAULT '',
    requested_at          timestamptz NOT NULL DEFAULT now(),
    is_dry_run            boolean NOT NULL,
    -- The price source: genai-prices' bundled data (named by the package version) and every
    -- override row of the project as it was read (id, match, prices, version, created_at).
    genai_prices_version  text NOT NULL,
    price_overrides       jsonb NOT NULL,
    spans_examined        bigint NOT NULL,
    spans_changed         bigint NOT NULL,
    spans_newly_priced    bigint NOT NULL,
    spans_newly_unpriced  bigint NOT NULL,
    cost_before_usd       numeric NOT NULL,
    cost_after_usd        numeric NOT NULL,
    -- Per (provider, model): spans, changed, newly priced/unpriced, cost before/after, delta.
    models                jsonb NOT NULL,
    -- Applied runs: when the rollups showed the new costs (on TimescaleDB the continuous
    -- aggregates are refreshed after the spans' commit; NULL until that step succeeded).
    rollups_updated_at    timestamptz
);
CREATE INDEX repricing_runs_project ON repricing_runs (project_id, run_id DESC);
