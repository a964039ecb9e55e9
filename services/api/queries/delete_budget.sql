-- Delete one budget of a project.
DELETE FROM budgets
WHERE project_id = %(project_id)s AND budget_id = %(budget_id)s
RETURNING budget_id
