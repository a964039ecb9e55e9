-- The keys of one project, without secrets or hashes.
SELECT key_id::text AS key_id, project_id, name, scopes, display_id, created_at, last_used_at,
       revoked_at
FROM api_keys WHERE project_id = %(project_id)s
ORDER BY created_at, key_id
