-- Store or replace the override of one entity (type), resource and unit of a project.
INSERT INTO usage_limits (project_id, entity_type, entity_id, resource, unit, limit_per_window,
                          window_seconds, burst)
VALUES (%(project_id)s, %(entity_type)s, %(entity_id)s, %(resource)s, %(unit)s, %(limit)s,
        %(window_seconds)s, %(burst)s)
ON CONFLICT (project_id, entity_type, entity_id, resource, unit) DO UPDATE
SET limit_per_window = EXCLUDED.limit_per_window, window_seconds = EXCLUDED.window_seconds,
    burst = EXCLUDED.burst
RETURNING limit_id, entity_type, entity_id, resource, unit, limit_per_window AS "limit",
          window_seconds, burst, created_at
