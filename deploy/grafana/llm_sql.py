"""The SQL every LLM dashboard shares: the labels of an LLM call's provider, model, operation and
environment, the dashboard filters (template variables project, provider, model, environment)
over the rollups and over raw spans, and the variables' own queries.

Panels read the rollups (deploy/grafana/rollups.py) wherever they answer the question, raw
`spans` only for what the rollups do not keep (users, sessions, error types and messages).
Grafana's PostgreSQL data source expands `$__timeFilter(col)`, `$__timeFrom()` and
`$__timeTo()` (macros take no parenthesised arguments) after the template variables;
`${var:sqlstring}` is a variable's selected values quoted and comma-separated, All meaning every
value of its query.
"""

from __future__ import annotations

from deploy.grafana import rollups
from deploy.grafana.panels import Json, sql_variable


def _label(value: str) -> str:
    # Rollups keep an unknown key as '', spans as NULL: both read 'unknown', the way the
    # collector's llm_* metrics name missing values.
    return f"coalesce(nullif({value}, ''), 'unknown')"


# Labels of rollup rows; PROVIDER and OPERATION read the same on spans.
PROVIDER = _label("provider")
MODEL = _label("model")
OPERATION = _label("operation")
ENVIRONMENT = _label("environment")
# Labels of spans, equal to the rollups' for the same call (migration 005's keys).
SPAN_MODEL = _label("coalesce(request_model, response_model)")
SPAN_ENVIRONMENT = _label("span_environment(resource_attributes)")
IS_ERROR = "(coalesce(is_error, false) OR status_code = 2)"


def _filters(model: str, environment: str) -> str:
    return f"""project_id IN (${{project:sqlstring}})
  AND {PROVIDER} IN (${{provider:sqlstring}})
  AND {model} IN (${{model:sqlstring}})
  AND {environment} IN (${{environment:sqlstring}})"""


FILTERS = _filters(MODEL, ENVIRONMENT)
SPAN_FILTERS = _filters(SPAN_MODEL, SPAN_ENVIRONMENT)

# Rollup rows covering the time range that pass the filters (totals and tables).
USAGE = f"{rollups.USAGE_IN_RANGE}\nWHERE {FILTERS}"
HISTOGRAM = f"{rollups.HISTOGRAM_IN_RANGE}\nWHERE {FILTERS}"
# Rollup rows at the level the panel's interval calls for that pass the filters (time series,
# grouped by rollups.TIME).
USAGE_SERIES = f"{rollups.USAGE_SERIES}\nWHERE {FILTERS}"
HISTOGRAM_SERIES = f"{rollups.HISTOGRAM_SERIES}\nWHERE {FILTERS}"

# Counted LLM calls (one per provider request) of the time range that pass the filters, for
# the questions rollups cannot answer.
CALLS = f"""spans
WHERE llm_is_counted AND $__timeFilter(start_time)
  AND {SPAN_FILTERS}"""

_PROJECT = "project_id IN (${project:sqlstring})"
VARIABLES: list[Json] = [
    sql_variable("project", "Project", "SELECT project_id FROM projects ORDER BY 1"),
    sql_variable(
        "environment",
        "Environment",
        f"SELECT DISTINCT {ENVIRONMENT} FROM {rollups.USAGE_IN_RANGE}\nWHERE {_PROJECT}",
    ),
    sql_variable(
        "provider",
        "Provider",
        f"SELECT DISTINCT {PROVIDER} FROM {rollups.USAGE_IN_RANGE}\nWHERE {_PROJECT}",
    ),
    sql_variable(
        "model",
        "Model",
        f"SELECT DISTINCT {MODEL} FROM {rollups.USAGE_IN_RANGE}\n"
        f"WHERE {_PROJECT} AND {PROVIDER} IN (${{provider:sqlstring}})",
    ),
]
