-- Per-project prices of custom and fine-tuned models, managed through the API
-- (/v1/projects/{id}/prices) and read by the collector's price_override step: the columns are
-- its override entries' keys. Numbered 006: 004 and 005 are taken by the storage branch.
-- Also indexes the API's lookups by span id, session and user.

CREATE TABLE model_price_overrides (
    override_id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id                          text NOT NULL
                                        REFERENCES projects (project_id) ON DELETE CASCADE,
    -- An exact name, a prefix, or a regular expression matching the whole name (ignoring case).
    model                               text NOT NULL CHECK (model <> ''),
    match                               text NOT NULL DEFAULT 'exact'
                                        CHECK (match IN ('exact', 'prefix', 'regex')),
    -- When set, only calls of this provider (OTel gen_ai.provider.name values).
    provider                            text CHECK (provider <> ''),
    input_usd_per_million_tokens        numeric NOT NULL CHECK (input_usd_per_million_tokens >= 0),
    output_usd_per_million_tokens       numeric NOT NULL
                                        CHECK (output_usd_per_million_tokens >= 0),
    -- NULL bills those tokens at the input price, as genai-prices does.
    cache_read_usd_per_million_tokens   numeric CHECK (cache_read_usd_per_million_tokens >= 0),
    cache_write_usd_per_million_tokens  numeric CHECK (cache_write_usd_per_million_tokens >= 0),
    -- Recorded on every call this price computes (spans.price_version).
    version                             text NOT NULL CHECK (version <> ''),
    created_at                          timestamptz NOT NULL DEFAULT now()
);
-- The collector tries a project's overrides in override_id order; the first match wins.
CREATE INDEX model_price_overrides_project ON model_price_overrides (project_id, override_id);

-- GET /v1/calls/{span_id} without its trace id.
CREATE INDEX spans_project_span ON spans (project_id, span_id);
-- Sessions and users of the traces table (GET /v1/sessions/{id}, /v1/users/{id}).
CREATE INDEX traces_project_session ON traces (project_id, session_id, start_time)
    WHERE session_id IS NOT NULL;
CREATE INDEX traces_project_user ON traces (project_id, user_id, start_time)
    WHERE user_id IS NOT NULL;
