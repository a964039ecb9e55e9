-- The stored limit overrides of one project.
SELECT limit_id, entity_type, entity_id, resource, unit, limit_per_window AS "limit",
       window_seconds, burst, created_at
FROM usage_limits
WHERE project_id = %(project_id)s
ORDER BY limit_id
