"""The SQL every LLM dashboard shares: what an LLM call is, the dashboard filters (template
variables project, provider, model, environment) and the variables' own queries.

Grafana's PostgreSQL data source expands `$__timeFilter(col)` and `$__timeGroupAlias(col, ...)`
(macros take no parenthesised arguments) after the template variables; `${var:sqlstring}` is a
variable's selected values quoted and comma-separated, All meaning every value of its query.
"""

from __future__ import annotations

from deploy.grafana.panels import Json, sql_variable

# Labels the way the collector's llm_* metrics name missing values.
PROVIDER = "coalesce(provider, 'unknown')"
MODEL = "coalesce(request_model, response_model, 'unknown')"
OPERATION = "coalesce(operation, 'unknown')"
ENVIRONMENT = (
    "coalesce(resource_attributes ->> 'deployment.environment.name',"
    " resource_attributes ->> 'deployment.environment', 'unknown')"
)
IS_ERROR = "(coalesce(is_error, false) OR status_code = 2)"

FILTERS = f"""project_id IN (${{project:sqlstring}})
  AND {PROVIDER} IN (${{provider:sqlstring}})
  AND {MODEL} IN (${{model:sqlstring}})
  AND {ENVIRONMENT} IN (${{environment:sqlstring}})"""

# Counted LLM calls (one per provider request) of the time range that pass the filters.
CALLS = f"""spans
WHERE llm_is_counted AND $__timeFilter(start_time)
  AND {FILTERS}"""

_IN_RANGE = "llm_is_counted AND $__timeFilter(start_time)"
VARIABLES: list[Json] = [
    sql_variable("project", "Project", "SELECT project_id FROM projects ORDER BY 1"),
    sql_variable(
        "environment",
        "Environment",
        f"SELECT DISTINCT {ENVIRONMENT} FROM spans WHERE {_IN_RANGE}"
        " AND project_id IN (${project:sqlstring})",
    ),
    sql_variable(
        "provider",
        "Provider",
        f"SELECT DISTINCT {PROVIDER} FROM spans WHERE {_IN_RANGE}"
        " AND project_id IN (${project:sqlstring})",
    ),
    sql_variable(
        "model",
        "Model",
        f"SELECT DISTINCT {MODEL} FROM spans WHERE {_IN_RANGE}"
        f" AND project_id IN (${{project:sqlstring}}) AND {PROVIDER} IN (${{provider:sqlstring}})",
    ),
]
