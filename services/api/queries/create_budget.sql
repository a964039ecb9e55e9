-- Store or replace the budget of a project's scope and period.
INSERT INTO budgets (project_id, scope, scope_id, period, limit_usd, limit_tokens, webhook_url)
VALUES (%(project_id)s, %(scope)s, %(scope_id)s, %(period)s, %(limit_usd)s, %(limit_tokens)s,
        %(webhook_url)s)
ON CONFLICT (project_id, scope, scope_id, period) DO UPDATE
SET limit_usd = EXCLUDED.limit_usd, limit_tokens = EXCLUDED.limit_tokens,
    webhook_url = EXCLUDED.webhook_url
RETURNING budget_id, project_id, scope, scope_id, period, limit_usd, limit_tokens, webhook_url,
          created_at
