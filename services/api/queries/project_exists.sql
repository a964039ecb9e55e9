-- Whether a project exists.
SELECT project_id FROM projects WHERE project_id = %(project_id)s
