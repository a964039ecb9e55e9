"""Every dashboard query against real data: each SQL panel, expanded as Grafana expands it, runs
on a database seeded through the collector and returns rows with the columns the panel shows;
every PromQL expression of the dashboards and alerts names metrics the services expose."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
import redis
import yaml
from psycopg import sql

from deploy.devutils.seed import SeedOptions, seed
from deploy.grafana.__main__ import DASHBOARDS_DIR
from deploy.local.servers import LocalServer, with_database
from tests.deploy.grafana_macros import Selection, TimeRange, expand, quote
from tests.deploy.promql_names import exposed_names, metric_names
from tests.e2e.services import ROOT, build_stack
from tests.e2e.stored import wait_for_rows
from tests.e2e.telemetry import scrape, send_varied_telemetry

DATABASE = "grafana_dashboards"
SEED_TRACES = 400
SEED_DAYS = 7
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
# Series Prometheus makes itself, not the services.
PROMETHEUS_OWN = {"up"}


@dataclass(frozen=True)
class Seeded:
    """The seeded database and what the services' /metrics endpoints showed afterwards."""

    database_url: str
    exposed: set[str]
    has_timescaledb: bool


@pytest.fixture(scope="module")
def seeded(
    pg_server: LocalServer,
    migrated_template: str,
    redis_server: LocalServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Seeded]:
    """A database of its own holding a week of seeded traffic, written by the running stack."""
    name = sql.Identifier(DATABASE)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE llmobs_template").format(name))
    url = with_database(pg_server.url, DATABASE)
    redis_url = f"{redis_server.url.rsplit('/', 1)[0]}/0"
    redis.Redis.from_url(redis_url).flushdb()
    stack = build_stack(url, redis_url, tmp_path_factory.mktemp("grafana-stack"))
    try:
        stack.start()
        report = seed(SeedOptions(stack.http_endpoint, SEED_DAYS, SEED_TRACES))
        send_varied_telemetry(stack, traces=20)
        wait_for_rows(url, "SELECT 1 FROM spans", (), report.spans, timeout=60)
        time.sleep(1)  # the API's and storage's gauges and counters after the last batch
        texts = [scrape(target) for target in stack.metrics_targets.values()]
    finally:
        stack.stop()
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    yield Seeded(url, set().union(*(exposed_names(text) for text in texts)), found is not None)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))


def dashboards() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(DASHBOARDS_DIR.glob("*.json"))]


def sql_panels() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{board['uid']}: {panel['title']}", {"board": board, "panel": panel})
        for board in dashboards()
        for panel in board["panels"]
        if any("rawSql" in target for target in panel["targets"])
    ]


def promql() -> list[str]:
    panel_exprs = [
        target["expr"]
        for board in dashboards()
        for panel in board["panels"]
        for target in panel["targets"]
        if "expr" in target
    ]
    rules = yaml.safe_load(RULES.read_text())["groups"]
    return panel_exprs + [rule["expr"] for group in rules for rule in group["rules"]]


def run(database_url: str, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute(query.encode())
        assert cursor.description is not None
        return [column.name for column in cursor.description], cursor.fetchall()


def selections(
    seeded: Seeded, board: dict[str, Any], time_range: TimeRange, pick_first: bool
) -> dict[str, Selection]:
    """Resolve the variables in order, as Grafana does: each query sees those before it. All is
    every value the query returns; `pick_first` selects only the first instead."""
    chosen: dict[str, Selection] = {}
    for variable in board["templating"]["list"]:
        query = expand(variable["query"], chosen, time_range, timescaledb=seeded.has_timescaledb)
        _, rows = run(seeded.database_url, query)
        values = [str(row[0]) for row in rows]
        assert values, f"variable {variable['name']} has no values"
        chosen[variable["name"]] = Selection(values[:1] if pick_first else values)
    return chosen


def expected_columns(panel: dict[str, Any]) -> set[str]:
    target = panel["targets"][0]
    shown = {o["matcher"]["options"] for o in panel["fieldConfig"]["overrides"]}
    return shown | ({"time"} if target["format"] == "time_series" else set())


@pytest.mark.parametrize(
    ("case"), [case for _, case in sql_panels()], ids=[i for i, _ in sql_panels()]
)
def test_sql_panel_returns_rows_with_the_columns_it_shows(
    seeded: Seeded, case: dict[str, Any]
) -> None:
    board, panel = case["board"], case["panel"]
    now = datetime.now(UTC)
    time_range = TimeRange(now - timedelta(days=SEED_DAYS), now, "1h")
    target = panel["targets"][0]
    for pick_first in (False, True):
        variables = selections(seeded, board, time_range, pick_first)
        query = expand(target["rawSql"], variables, time_range, timescaledb=seeded.has_timescaledb)
        assert "$" not in query.replace("$$", ""), query
        columns, rows = run(seeded.database_url, query)
        assert expected_columns(panel) <= set(columns), f"{columns}\n{query}"
        if pick_first:
            continue  # one provider's and one model's slice may rightly be empty
        assert rows, f"no rows for\n{query}"
        if target["format"] == "time_series":
            values = [c for c in columns if c not in ("time", "metric")]
            for row in rows:
                for column, value in zip(columns, row, strict=True):
                    if column in values and value is not None:
                        assert isinstance(value, int | float | Decimal), (column, value)


def test_every_promql_expression_reads_metrics_the_services_expose(seeded: Seeded) -> None:
    rules = yaml.safe_load(RULES.read_text())["groups"]
    recorded = {rule["record"] for group in rules for rule in group["rules"] if "record" in rule}
    missing = {
        expr: sorted(metric_names(expr) - seeded.exposed - recorded - PROMETHEUS_OWN)
        for expr in promql()
    }
    missing = {expr: names for expr, names in missing.items() if names}
    assert not missing, missing
    assert all(metric_names(expr) for expr in promql())


def test_sql_quoting_of_selected_values_survives_quotes(seeded: Seeded) -> None:
    _, rows = run(seeded.database_url, f"SELECT {quote(chr(39) + 'x')}")
    assert rows == [("'x",)]
