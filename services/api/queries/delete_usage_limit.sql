-- Delete one limit override of a project.
DELETE FROM usage_limits
WHERE project_id = %(project_id)s AND limit_id = %(limit_id)s
RETURNING limit_id
