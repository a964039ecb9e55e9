-- API keys per project (only their HMAC-SHA256 hash is stored) and per-project ingest quotas.

CREATE TABLE api_keys (
    key_id        uuid PRIMARY KEY,
    project_id    text NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    name          text NOT NULL DEFAULT '',
    scopes        text[] NOT NULL
                  CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['ingest', 'read', 'admin']),
    -- HMAC-SHA256 of the key under LLMOBS_KEY_PEPPER; the key itself is never stored.
    key_hash      bytea NOT NULL UNIQUE,
    -- Shown in lists: the key's first characters, or the public key `pk-lf-...` of a Langfuse pair.
    display_id    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_project ON api_keys (project_id, created_at);
-- A Langfuse public key names exactly one secret.
CREATE UNIQUE INDEX api_keys_langfuse_public_key ON api_keys (display_id)
    WHERE display_id LIKE 'pk-lf-%';

-- Overrides of the collector's default ingest rates; NULL keeps the default, 0 means unlimited.
CREATE TABLE project_quotas (
    project_id           text PRIMARY KEY REFERENCES projects (project_id) ON DELETE CASCADE,
    requests_per_second  integer CHECK (requests_per_second >= 0),
    spans_per_second     integer CHECK (spans_per_second >= 0),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
