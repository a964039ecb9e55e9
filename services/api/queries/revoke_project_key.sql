-- Revoke a key of one project (idempotent); no row when the project has no such key.
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
WHERE key_id = %(key_id)s::uuid AND project_id = %(project_id)s
RETURNING key_id::text AS key_id, revoked_at
