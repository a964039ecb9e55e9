-- LLM usage limits (stored overrides of the configured defaults) and spend budgets, managed
-- through the API (/v1/projects/{id}/limits and /budgets); the API and the collector read them.
-- See docs/adr/0010-usage-limits-and-leases.md and docs/adr/0015-budgets.md.

-- `limit_per_window` units of `unit` per `window_seconds` for one entity (entity_id) or every
-- entity of its type ('*'), on one model or every model ('*'). 0 lifts a default (unlimited).
CREATE TABLE usage_limits (
    limit_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id        text NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    entity_type       text NOT NULL CHECK (entity_type IN ('project', 'user', 'key')),
    entity_id         text NOT NULL DEFAULT '*' CHECK (entity_id <> ''),
    resource          text NOT NULL DEFAULT '*' CHECK (resource <> ''),
    unit              text NOT NULL CHECK (unit ~ '^[a-z][a-z0-9_]{0,31}$'),
    limit_per_window  bigint NOT NULL CHECK (limit_per_window BETWEEN 0 AND 1000000000),
    window_seconds    integer NOT NULL DEFAULT 60 CHECK (window_seconds BETWEEN 1 AND 86400),
    -- Capacity above the limit; NULL takes LIMITS_BURST_PERCENT of the limit.
    burst             bigint CHECK (burst BETWEEN 0 AND 1000000000),
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, entity_type, entity_id, resource, unit)
);

-- Spend of a project, one of its users or one of its models per UTC day, ISO week or month,
-- in USD and/or tokens; a webhook is told once when 50, 80 and 100 % are crossed.
CREATE TABLE budgets (
    budget_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id    text NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    scope         text NOT NULL CHECK (scope IN ('project', 'user', 'model')),
    -- The user id or model name; '' for the project itself.
    scope_id      text NOT NULL DEFAULT '',
    period        text NOT NULL CHECK (period IN ('day', 'week', 'month')),
    limit_usd     numeric CHECK (limit_usd > 0),
    limit_tokens  bigint CHECK (limit_tokens > 0),
    webhook_url   text CHECK (webhook_url ~ '^https?://'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (limit_usd IS NOT NULL OR limit_tokens IS NOT NULL),
    CHECK ((scope = 'project') = (scope_id = '')),
    UNIQUE (project_id, scope, scope_id, period)
);

-- Spend of one user over a period reads raw spans (the rollups keep no user).
CREATE INDEX spans_project_user_time ON spans (project_id, user_id, start_time)
    WHERE user_id IS NOT NULL;
