-- Delete a price override of one project; no row when the project has no such override.
DELETE FROM model_price_overrides
WHERE project_id = %(project_id)s AND override_id = %(override_id)s
RETURNING override_id
