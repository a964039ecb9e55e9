"""Builders of Grafana dashboard JSON: panels over PostgreSQL (SQL) or Prometheus (PromQL),
template variables, and a dashboard that lays its panels out in rows of 24 columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# The data sources of grafana/provisioning/datasources/datasources.yml.
POSTGRES = {"type": "grafana-postgresql-datasource", "uid": "llmobs-timescaledb"}
PROMETHEUS = {"type": "prometheus", "uid": "llmobs-prometheus"}
GRID_COLUMNS = 24
SCHEMA_VERSION = 39

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Column:
    """A column an SQL panel shows: its name in the result, unit and display title."""

    name: str
    unit: str = "none"
    title: str = ""


@dataclass(frozen=True, slots=True)
class Query:
    """A PromQL expression and the legend of its series."""

    expr: str
    legend: str = ""


def sql_panel(
    kind: str,
    title: str,
    sql: str,
    columns: Sequence[Column],
    *,
    width: int = 12,
    height: int = 8,
    description: str = "",
) -> Json:
    """A panel of one SQL query; `timeseries` panels read the `time` column as time series."""
    is_series = kind in ("timeseries", "barchart") and any(c.name == "time" for c in columns)
    target = {
        "refId": "A",
        "datasource": POSTGRES,
        "editorMode": "code",
        "format": "time_series" if is_series else "table",
        "rawQuery": True,
        "rawSql": sql.strip(),
    }
    overrides = [_override(column) for column in columns if column.name != "time"]
    return _panel(kind, title, POSTGRES, [target], overrides, width, height, description)


def prom_panel(
    kind: str,
    title: str,
    queries: Sequence[Query],
    *,
    unit: str = "none",
    width: int = 12,
    height: int = 8,
    description: str = "",
) -> Json:
    """A panel of PromQL queries, one target each."""
    targets = [
        {
            "refId": chr(ord("A") + index),
            "datasource": PROMETHEUS,
            "editorMode": "code",
            "expr": query.expr,
            "legendFormat": query.legend or "__auto",
            "range": True,
        }
        for index, query in enumerate(queries)
    ]
    panel = _panel(kind, title, PROMETHEUS, targets, [], width, height, description)
    panel["fieldConfig"]["defaults"]["unit"] = unit
    return panel


def _panel(
    kind: str,
    title: str,
    datasource: Json,
    targets: list[Json],
    overrides: list[Json],
    width: int,
    height: int,
    description: str,
) -> Json:
    options: Json = {"legend": {"displayMode": "table", "placement": "bottom", "calcs": []}}
    if kind == "stat":
        options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
    if kind == "table":
        options = {"showHeader": True, "cellHeight": "sm"}
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": datasource,
        "targets": targets,
        "fieldConfig": {"defaults": {}, "overrides": overrides},
        "options": options,
        "gridPos": {"w": width, "h": height},
    }


def _override(column: Column) -> Json:
    properties: list[Json] = [{"id": "unit", "value": column.unit}]
    if column.title:
        properties.append({"id": "displayName", "value": column.title})
    return {"matcher": {"id": "byName", "options": column.name}, "properties": properties}


def sql_variable(name: str, label: str, query: str) -> Json:
    """A multi-value PostgreSQL query variable with All, refreshed when the time range changes."""
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": POSTGRES,
        "query": query.strip(),
        "definition": query.strip(),
        "refresh": 2,
        "multi": True,
        "includeAll": True,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


def prom_variable(name: str, label: str, query: str) -> Json:
    """A multi-value Prometheus label_values variable with All (`.*`)."""
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": PROMETHEUS,
        "query": {"query": query, "refId": f"{name}-variable"},
        "definition": query,
        "refresh": 2,
        "multi": True,
        "includeAll": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


def dashboard(
    uid: str,
    title: str,
    description: str,
    panels: Sequence[Json],
    variables: Sequence[Json] = (),
    *,
    time_from: str = "now-24h",
) -> Json:
    """The dashboard, panels placed left to right in rows and numbered."""
    placed, x, y, row_height = [], 0, 0, 0
    for panel_id, panel in enumerate(panels, start=1):
        width, height = panel["gridPos"]["w"], panel["gridPos"]["h"]
        if x + width > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        placed.append(
            {**panel, "id": panel_id, "gridPos": {"x": x, "y": y, "w": width, "h": height}}
        )
        x, row_height = x + width, max(row_height, height)
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["llm-observatory"],
        "editable": False,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "time": {"from": time_from, "to": "now"},
        "refresh": "1m",
        "timezone": "browser",
        "templating": {"list": list(variables)},
        "annotations": {"list": []},
        "links": [
            {
                "type": "dashboards",
                "tags": ["llm-observatory"],
                "asDropdown": True,
                "title": "LLM Observatory",
            }
        ],
        "panels": placed,
    }
