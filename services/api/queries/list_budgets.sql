-- The budgets of one project, or of every project when %(project_id)s is NULL (the evaluator).
SELECT budget_id, project_id, scope, scope_id, period, limit_usd, limit_tokens, webhook_url,
       created_at
FROM budgets
WHERE %(project_id)s::text IS NULL OR project_id = %(project_id)s::text
ORDER BY project_id, budget_id
