-- A new project; nothing when the id is taken.
INSERT INTO projects (project_id, name) VALUES (%(project_id)s, %(name)s)
ON CONFLICT (project_id) DO NOTHING
RETURNING project_id, name, created_at
