"""grafana/: the dashboards are the generated ones, wired to the provisioned data sources, with
the dashboard filters; the macro emulation the SQL tests rely on agrees with Grafana's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.grafana.__main__ import BUILDERS, DASHBOARDS_DIR, main
from tests.deploy.config_env import ROOT
from tests.deploy.grafana_macros import MacroError, Selection, TimeRange, expand, expand_macros
from tests.deploy.promql_names import exposed_names, metric_names

PROVISIONING = ROOT / "grafana" / "provisioning"
SQL_VARIABLES = ["project", "environment", "provider", "model"]
RANGE = TimeRange(
    datetime(2017, 4, 21, 5, 1, 17, tzinfo=UTC), datetime(2017, 4, 21, 5, 6, 17, tzinfo=UTC), "5m"
)


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in DASHBOARDS_DIR.glob("*.json")}


def test_the_dashboard_files_are_what_the_code_generates() -> None:
    assert main(["--check"]) == 0, "run: python -m deploy.grafana"
    assert set(dashboards()) == set(BUILDERS)


def test_every_panel_uses_a_provisioned_data_source() -> None:
    sources = yaml.safe_load((PROVISIONING / "datasources" / "datasources.yml").read_text())
    provisioned = {(s["type"], s["uid"]) for s in sources["datasources"]}
    uids = set()
    for name, board in dashboards().items():
        uids.add(board["uid"])
        for panel in board["panels"]:
            used = {(t["datasource"]["type"], t["datasource"]["uid"]) for t in panel["targets"]}
            assert used <= provisioned, f"{name}: {panel['title']}"
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
    assert len(uids) == len(BUILDERS)


def test_sql_dashboards_filter_by_project_environment_provider_and_model() -> None:
    for name, board in dashboards().items():
        variables = [v["name"] for v in board["templating"]["list"]]
        sql = [t["rawSql"] for p in board["panels"] for t in p["targets"] if "rawSql" in t]
        if not sql:
            continue
        assert variables == SQL_VARIABLES, name
        for query in sql:
            for variable in SQL_VARIABLES:
                assert f"${{{variable}:sqlstring}}" in query, f"{name}: {query[:80]}"
            assert "$__timeFilter(" in query, f"{name}: {query[:80]}"


def test_macros_expand_as_grafana_documents_them() -> None:
    cases = {
        "$__time(dateColumn)": 'dateColumn AS "time"',
        "$__timeEpoch(dateColumn)": 'extract(epoch from dateColumn) as "time"',
        "$__timeFilter(dateColumn)": (
            "dateColumn BETWEEN '2017-04-21T05:01:17Z' AND '2017-04-21T05:06:17Z'"
        ),
        "$__timeFrom()": "'2017-04-21T05:01:17Z'",
        "$__timeTo()": "'2017-04-21T05:06:17Z'",
        "$__timeGroup(dateColumn,'5m')": "floor(extract(epoch from dateColumn)/300)*300",
        "$__timeGroupAlias(dateColumn,'5m')": (
            'floor(extract(epoch from dateColumn)/300)*300 AS "time"'
        ),
        "$__unixEpochFilter(dateColumn)": "dateColumn >= 1492750877 AND dateColumn <= 1492751177",
    }
    for macro, expected in cases.items():
        assert expand_macros(macro, RANGE, timescaledb=False) == expected
    # Followed by a comma, $__timeGroup still aliases its column (Grafana < 5.3 dashboards).
    assert expand_macros("$__timeGroup(t, 1m), v", RANGE, timescaledb=False) == (
        'floor(extract(epoch from t)/60)*60 AS "time", v'
    )
    assert expand("$__timeGroup(t, $__interval)", {}, RANGE, timescaledb=True) == (
        "time_bucket('300.000s',t)"
    )
    with pytest.raises(MacroError):
        expand_macros("$__nope(x)", RANGE, timescaledb=False)


def test_variables_interpolate_as_the_postgresql_data_source_does() -> None:
    variables = {
        "provider": Selection(["openai", "o'brien"]),
        "single": Selection(["x"], is_multi=False),
    }
    sql = "p IN (${provider:sqlstring}) AND q IN ($provider) AND r = '$single' AND ${single}"
    assert expand(sql, variables, RANGE, timescaledb=False) == (
        "p IN ('openai','o''brien') AND q IN ('openai','o''brien') AND r = 'x' AND x"
    )


def test_the_file_provider_reads_the_dashboards_directory() -> None:
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "dashboards.yml").read_text())
    assert [p["type"] for p in providers["providers"]] == ["file"]
    assert Path(DASHBOARDS_DIR).relative_to(ROOT) == Path("grafana/dashboards")


def test_promql_metric_names_skip_functions_labels_keywords_and_variables() -> None:
    expr = (
        'sum by (le, job) (rate(a_bucket{x="y", z=~"$v"}[$__rate_interval])) / on(job) '
        "group_left(k) b offset 1w > 3 * max(c:recorded) and d unless bool e"
    )
    assert metric_names(expr) == {"a_bucket", "b", "c:recorded", "d", "e"}
    exposition = (
        '# HELP x_total X.\n# TYPE x_total counter\n# TYPE h histogram\ng{a="b"} 1.0\ny_total 2.0\n'
    )
    assert exposed_names(exposition) == {"x_total", "h", "h_bucket", "h_sum", "h_count", "g",
                                         "y_total"}  # fmt: skip
