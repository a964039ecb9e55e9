"""Every dashboard query against real data: each SQL panel, expanded as Grafana expands it, runs
on a database seeded through the collector and returns rows with the columns the panel shows;
the overview's rollup-based values equal direct computations over the raw spans (percentiles
within the histogram's stated error) on both storage paths; every PromQL expression of the
dashboards and alerts names metrics the services expose."""

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
from tests.storage.test_rollups import generate_spans, refresh_if_timescale, write_batches

DATABASE = "grafana_dashboards"
SEED_TRACES = 400
SEED_DAYS = 7
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
# Series Prometheus makes itself, not the services.
PROMETHEUS_OWN = {"up"}
# ADR 0005: every latency is within 0.05 / 2.05 of the value its histogram bucket reads as.
RELATIVE_ERROR = 0.05 / 2.05
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
# The overview's stat panels and the column each shows.
OVERVIEW_STATS = {"Requests": "requests", "Tokens": "tokens", "Cost": "cost_usd",
                  "Latency p95": "p95_seconds"}  # fmt: skip
# (range, Grafana's interval, the rollup level the panels must read, the width of a point).
SERIES_CASES = [
    (timedelta(hours=2), "1m", "1 minute", "1 minute"),
    (timedelta(days=7), "10m", "1 hour", "1 hour"),  # 1m rows may be gone at the range's start
    (timedelta(days=7), "2h", "1 hour", "2 hours"),
    (timedelta(days=7), "1d", "1 day", "1 day"),
    (timedelta(days=90), "1h", "1 day", "1 day"),  # 1h rows may be gone at the range's start
]

# Direct computations over raw spans, written apart from the dashboards' SQL: the counted LLM
# calls within {bounds} whose labels the variables select (unknown values read 'unknown').
RAW_CALLS = """
FROM spans
WHERE llm_is_counted AND {bounds}
  AND project_id = ANY(%(project)s)
  AND coalesce(nullif(provider, ''), 'unknown') = ANY(%(provider)s)
  AND coalesce(nullif(coalesce(request_model, response_model), ''), 'unknown') = ANY(%(model)s)
  AND coalesce(nullif(coalesce(resource_attributes ->> 'deployment.environment.name',
                               resource_attributes ->> 'deployment.environment'), ''),
               'unknown') = ANY(%(environment)s)
"""
IN_RANGE = "start_time >= %(from)s AND start_time < %(to)s"
# The rollup buckets of the level that start within the range, as $__timeFilter keeps them.
IN_SERIES = "date_bin(%(level)s::interval, start_time, %(origin)s) BETWEEN %(from)s AND %(to)s"
RAW_TOTALS = f"""
SELECT count(*), coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0),
       coalesce(sum(cost_usd), 0), percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms)
{RAW_CALLS.format(bounds=IN_RANGE)}"""
RAW_SERIES = f"""
SELECT date_bin(%(width)s::interval, start_time, %(origin)s), count(*),
       count(*) FILTER (WHERE is_error OR status_code = 2), coalesce(sum(cost_usd), 0),
       percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ms)
{RAW_CALLS.format(bounds=IN_SERIES)}GROUP BY 1 ORDER BY 1
"""
RAW_LABELS = """
SELECT project_id, coalesce(nullif(provider, ''), 'unknown'),
       coalesce(nullif(coalesce(request_model, response_model), ''), 'unknown'),
       coalesce(nullif(coalesce(resource_attributes ->> 'deployment.environment.name',
                                resource_attributes ->> 'deployment.environment'), ''),
                'unknown'),
       count(*)
FROM spans WHERE llm_is_counted AND start_time >= %(from)s AND start_time < %(to)s
GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 1, 2, 3, 4
"""


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


def fetch(database_url: str, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


def panel_rows(
    seeded: Seeded,
    title: str,
    kind: str,
    variables: dict[str, Selection],
    time_range: TimeRange,
) -> list[dict[str, Any]]:
    """The rows of an overview panel's query, as Grafana would run it, column name to value."""
    [board] = [b for b in dashboards() if b["uid"] == "llmobs-overview"]
    [panel] = [p for p in board["panels"] if p["title"] == title and p["type"] == kind]
    query = expand(
        panel["targets"][0]["rawSql"], variables, time_range, timescaledb=seeded.has_timescaledb
    )
    columns, rows = run(seeded.database_url, query)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def minute_bounds(time_range: TimeRange) -> tuple[datetime, datetime]:
    """The minutes a range covers: partial minutes at its edges count whole (rollup_tiles)."""
    start = time_range.start.replace(second=0, microsecond=0)
    end = time_range.end.replace(second=0, microsecond=0)
    return start, end if end == time_range.end else end + timedelta(minutes=1)


def raw_params(variables: dict[str, Selection], **extra: Any) -> dict[str, Any]:
    names = ("project", "provider", "model", "environment")
    return {name: list(variables[name].values) for name in names} | extra


def assert_within_error(estimate: float | None, exact: float | None, what: object) -> None:
    if exact is None:
        assert estimate is None, what
        return
    assert estimate is not None, what
    # One microsecond of slack: latencies under 1 µs share the lowest bucket.
    assert abs(estimate - exact) <= RELATIVE_ERROR * exact + 1e-6, (what, estimate, exact)


def variable_cases(seeded: Seeded, time_range: TimeRange) -> list[dict[str, Selection]]:
    """All, after checking that the variables offer exactly the labels of the range's calls;
    then each variable set to one label of the most frequent kind of call."""
    [board] = [b for b in dashboards() if b["uid"] == "llmobs-overview"]
    offered = selections(seeded, board, time_range, pick_first=False)
    start, end = minute_bounds(time_range)
    labels = fetch(seeded.database_url, RAW_LABELS, {"from": start, "to": end})
    labels = [row for row in labels if row[0] in offered["project"].values]
    for index, name in enumerate(("provider", "model", "environment"), start=1):
        assert set(offered[name].values) == {row[index] for row in labels}, name
    busiest = dict(zip(("project", "provider", "model", "environment"), labels[0], strict=False))
    return [offered, {name: Selection([value]) for name, value in busiest.items()}]


def assert_overview_stats_equal_raw(
    seeded: Seeded, variables: dict[str, Selection], time_range: TimeRange
) -> None:
    start, end = minute_bounds(time_range)
    params = raw_params(variables, **{"from": start, "to": end})
    [(requests, tokens, cost_usd, p95_ms)] = fetch(seeded.database_url, RAW_TOTALS, params)
    shown = {
        title: panel_rows(seeded, title, "stat", variables, time_range)[0][column]
        for title, column in OVERVIEW_STATS.items()
    }
    assert requests > 0, params
    assert (shown["Requests"], shown["Tokens"], shown["Cost"]) == (requests, tokens, cost_usd)
    assert_within_error(shown["Latency p95"], p95_ms / 1000, ("p95", params))


def assert_overview_series_equal_raw(
    seeded: Seeded, variables: dict[str, Selection], now: datetime
) -> int:
    """Compare the series panels with raw spans for every case; return the points compared."""
    compared = 0
    for length, interval, level, width in SERIES_CASES:
        time_range = TimeRange(now - length, now, interval)
        params = raw_params(variables, level=level, width=width, origin=ORIGIN,
                            **{"from": time_range.start, "to": time_range.end})  # fmt: skip
        raw = fetch(seeded.database_url, RAW_SERIES, params)
        compared += len(raw)
        counts = panel_rows(seeded, "Requests and errors", "timeseries", variables, time_range)
        assert [(r["time"], r["requests"], r["errors"]) for r in counts] == [
            row[:3] for row in raw
        ], params
        cost = panel_rows(seeded, "Cost", "timeseries", variables, time_range)
        assert [(r["time"], r["cost_usd"]) for r in cost] == [(row[0], row[3]) for row in raw]
        latency = panel_rows(seeded, "Latency p50 / p95 / p99", "timeseries", variables, time_range)
        assert [r["time"] for r in latency] == [row[0] for row in raw], params
        for shown, row in zip(latency, raw, strict=True):
            for name, exact_ms in zip(("p50", "p95", "p99"), row[4], strict=True):
                assert_within_error(shown[name], exact_ms / 1000, (name, row[0], params))
    return compared


def assert_overview_equals_raw(seeded: Seeded) -> None:
    now = datetime.now(UTC).replace(microsecond=0)  # Grafana's ranges are whole seconds
    time_range = TimeRange(now - timedelta(days=SEED_DAYS), now, "1h")
    for variables in variable_cases(seeded, time_range):
        assert_overview_stats_equal_raw(seeded, variables, time_range)
        assert assert_overview_series_equal_raw(seeded, variables, now) > 0


def test_overview_panels_read_from_rollups_equal_raw_spans(seeded: Seeded) -> None:
    assert_overview_equals_raw(seeded)


async def test_sql_panels_on_timescaledb_run_and_equal_raw_spans(timescale_url: str) -> None:
    spans = generate_spans(1500)
    assert await write_batches(timescale_url, spans, batch_size=500) == len(spans)
    refresh_if_timescale(timescale_url)
    database = Seeded(timescale_url, set(), has_timescaledb=True)
    now = datetime.now(UTC).replace(microsecond=0)
    time_range = TimeRange(now - timedelta(days=SEED_DAYS), now, "1h")
    for _, case in sql_panels():
        board, panel = case["board"], case["panel"]
        variables = selections(database, board, time_range, pick_first=False)
        query = expand(panel["targets"][0]["rawSql"], variables, time_range, timescaledb=True)
        columns, _ = run(timescale_url, query)
        assert expected_columns(panel) <= set(columns), f"{columns}\n{query}"
    assert_overview_equals_raw(database)


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
