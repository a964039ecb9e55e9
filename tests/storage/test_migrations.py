"""Migrations on both storage paths: the objects each path needs, the same query surface on
both, and upgrades from every earlier version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from services.storage.migrations import apply_migrations, load_migrations

ROLLUP_RELATIONS = tuple(
    f"{kind}_{level}"
    for kind in ("usage", "latency_hist", "sampled_out", "usage_estimated")
    for level in ("1m", "1h", "1d")
)
CONTINUOUS_AGGREGATES = {
    f"{kind}_{level}"
    for kind in ("usage", "duration_hist", "ttft_hist", "sampled_out")
    for level in ("1m", "1h", "1d")
}
READ_FUNCTIONS = (
    "latency_bucket", "latency_bucket_value", "log_histogram_quantiles", "rollup_tiles",
    "latency_histogram", "latency_percentiles", "storage_backend",
)  # fmt: skip


def fetch(url: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def columns(url: str, relation: str) -> list[tuple[str, str]]:
    return fetch(
        url,
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        (relation,),
    )


def compression_settings(url: str, table: str) -> list[tuple[Any, ...]]:
    return fetch(
        url,
        "SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc"
        " FROM timescaledb_information.compression_settings WHERE hypertable_name = %s"
        " ORDER BY segmentby_column_index NULLS LAST, orderby_column_index",
        (table,),
    )


def test_plain_postgresql_partitions_spans_by_day(database_url: str) -> None:
    assert fetch(database_url, "SELECT storage_backend()") == [("postgresql",)]
    (key,) = fetch(database_url, "SELECT pg_get_partkeydef('spans'::regclass)")
    assert key == ("RANGE (start_time)",)
    partitions = fetch(
        database_url,
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'spans'::regclass",
    )
    assert partitions == [("spans_default", "DEFAULT")]
    kinds = dict(fetch(
        database_url,
        "SELECT relname, relkind::text FROM pg_class WHERE relname = ANY(%s)",
        (list(ROLLUP_RELATIONS),),
    ))  # fmt: skip
    assert kinds == {name: "v" if name.startswith("usage_estimated") else "r"
                     for name in ROLLUP_RELATIONS}  # fmt: skip


def test_timescale_hypertable_compression_policies_and_aggregates(timescale_url: str) -> None:
    url = timescale_url
    assert fetch(url, "SELECT storage_backend()") == [("timescaledb",)]
    assert fetch(
        url, "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables"
        " WHERE hypertable_schema = 'public' ORDER BY hypertable_name",
    ) == [("log_records", True), ("metric_points", True), ("spans", True)]  # fmt: skip
    assert fetch(
        url, "SELECT column_name, time_interval FROM timescaledb_information.dimensions"
        " WHERE hypertable_name = 'spans'",
    )[0][0] == "start_time"  # fmt: skip
    settings = fetch(
        url,
        "SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc"
        " FROM timescaledb_information.compression_settings WHERE hypertable_name = 'spans'"
        " ORDER BY segmentby_column_index NULLS LAST, orderby_column_index",
    )
    assert settings == [
        ("project_id", 1, None, None), ("request_model", 2, None, None),
        ("start_time", None, 1, False), ("trace_id", None, 2, True), ("span_id", None, 3, True),
    ]  # fmt: skip
    assert compression_settings(url, "metric_points") == [
        ("project_id", 1, None, None), ("metric_name", 2, None, None),
        ("time", None, 1, False), ("point_hash", None, 2, True),
    ]  # fmt: skip
    assert compression_settings(url, "log_records") == [
        ("project_id", 1, None, None), ("service_name", 2, None, None),
        ("time", None, 1, False), ("record_hash", None, 2, True),
    ]  # fmt: skip
    aggregates = fetch(
        url,
        "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates",
    )
    assert {name for name, _ in aggregates} == CONTINUOUS_AGGREGATES
    assert not any(materialized_only for _, materialized_only in aggregates)  # real-time
    hierarchy = dict(fetch(
        url,
        "SELECT ca.user_view_name::text, coalesce(parent.user_view_name::text, 'spans')"
        " FROM _timescaledb_catalog.continuous_agg ca"
        " LEFT JOIN _timescaledb_catalog.continuous_agg parent"
        "   ON parent.mat_hypertable_id = ca.raw_hypertable_id",
    ))  # fmt: skip
    assert hierarchy["usage_1m"] == "spans"
    assert hierarchy["usage_1h"] == "usage_1m"
    assert hierarchy["usage_1d"] == "usage_1h"
    assert hierarchy["ttft_hist_1d"] == "ttft_hist_1h"
    jobs = fetch(
        url,
        "SELECT proc_name, hypertable_name, config FROM timescaledb_information.jobs"
        " WHERE hypertable_schema = 'public' ORDER BY job_id",
    )
    by_kind: dict[tuple[str, str], dict[str, Any]] = {(p, h): c for p, h, c in jobs}
    for table in ("spans", "metric_points", "log_records"):
        assert by_kind[("policy_compression", table)]["compress_after"] == "7 days", table
    assert by_kind[("policy_retention", "spans")]["drop_after"] == "30 days"
    for name in CONTINUOUS_AGGREGATES:
        refresh = by_kind[("policy_refresh_continuous_aggregate", name)]
        assert refresh["start_offset"] == {"1m": "1 day", "1h": "2 days", "1d": "3 days"}[name[-2:]]
        retention = by_kind[("policy_retention", name)]
        assert retention["drop_after"] == {"1m": "7 days", "1h": "90 days",
                                           "1d": "730 days"}[name[-2:]]  # fmt: skip


def test_both_paths_expose_the_same_relations_and_functions(
    database_url: str, timescale_url: str
) -> None:
    for relation in ROLLUP_RELATIONS:
        plain = columns(database_url, relation)
        assert plain, relation
        assert columns(timescale_url, relation) == plain, relation
    for url in (database_url, timescale_url):
        rows = fetch(url, "SELECT proname FROM pg_proc WHERE proname = ANY(%s)",
                     (list(READ_FUNCTIONS),))  # fmt: skip
        found = {name for (name,) in rows}
        assert found == set(READ_FUNCTIONS)
    assert columns(database_url, "spans") == columns(timescale_url, "spans")
    assert columns(database_url, "traces") == columns(timescale_url, "traces")


def test_versions_may_have_gaps_but_not_duplicates(tmp_path: Path) -> None:
    (tmp_path / "001_a.sql").write_text("SELECT 1")
    (tmp_path / "004_b.sql").write_text("SELECT 1")
    assert [m.version for m in load_migrations(tmp_path)] == [1, 4]
    (tmp_path / "004_c.sql").write_text("SELECT 1")
    with pytest.raises(ValueError, match="004 is duplicated"):
        load_migrations(tmp_path)


def test_reapplying_changes_nothing(database_url: str) -> None:
    assert apply_migrations(database_url) == []


EARLIER_VERSIONS = [migration.version for migration in load_migrations()][:-1]
# The migration that creates the rollups and folds the spans already stored into them. After it,
# on plain PostgreSQL only the storage writer folds spans, so rows INSERTed by hand are not in
# the rollups (on TimescaleDB a refresh still reads them).
ROLLUPS_VERSION = 5
# A span per minute over two hours, at every version's shape of spans (001 columns only); every
# fourth one kept by the sample step with weight 4 (in its attributes before migration 009).
RAW_SPANS = """
INSERT INTO spans (project_id, trace_id, span_id, name, kind, start_time, end_time,
                   start_time_unix_nano, end_time_unix_nano, duration_ms, status_code,
                   service_name, received_at, llm_is_counted, provider, request_model,
                   operation, input_tokens, output_tokens, cost_usd, attributes)
SELECT 'default', lpad(to_hex(i), 32, '0'), lpad(to_hex(i), 16, '0'), 'chat', 3, t,
       t + make_interval(secs => i / 10.0), 0, 0, i * 100.0, 0, 'svc', t, i % 3 <> 0, 'openai',
       'gpt-4o-mini', 'chat', i, 2 * i, i * 0.000001,
       CASE WHEN i % 4 = 0 THEN '{"llmobs.sample_weight": 4}'::jsonb ELSE '{}' END
FROM generate_series(1, 120) AS i,
     LATERAL (SELECT date_trunc('hour', now()) - interval '3 hours'
                     + i * interval '1 minute') AS s (t)
"""


@pytest.mark.parametrize("version", EARLIER_VERSIONS)
def test_upgrade_from_an_earlier_version_on_plain_postgresql(
    empty_database_url: str, version: int
) -> None:
    check_upgrade(empty_database_url, version)


@pytest.mark.parametrize("version", EARLIER_VERSIONS)
def test_upgrade_from_an_earlier_version_on_timescale(
    empty_timescale_url: str, version: int
) -> None:
    check_upgrade(empty_timescale_url, version)


def check_upgrade(url: str, version: int) -> None:
    """Migrate to `version`, store spans, migrate the rest: spans kept, rollups include them."""
    assert apply_migrations(url, target=version)[-1] == version
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RAW_SPANS)
    rest = apply_migrations(url)
    assert rest == [v for v in (m.version for m in load_migrations()) if v > version]
    assert fetch(url, "SELECT count(*) FROM spans") == [(120,)]
    is_timescale = fetch(url, "SELECT storage_backend()") == [("timescaledb",)]
    if not is_timescale and version >= ROLLUPS_VERSION:
        return
    if is_timescale:
        for level in ("1m", "1h", "1d"):
            for kind in ("usage", "duration_hist", "ttft_hist", "sampled_out"):
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"CALL refresh_continuous_aggregate('{kind}_{level}', NULL, NULL)")
    raw = fetch(
        url,
        "SELECT count(*), sum(input_tokens), sum(output_tokens), sum(cost_usd) FROM spans"
        " WHERE llm_is_counted",
    )
    estimated = fetch(
        url,
        "SELECT sum(w), sum(input_tokens * w), sum(output_tokens * w), sum(cost_usd * w)"
        " FROM spans, LATERAL (SELECT coalesce((attributes ->> 'llmobs.sample_weight')::numeric,"
        " 1)) AS weight (w) WHERE llm_is_counted",
    )
    assert estimated != raw
    for level in ("1m", "1h", "1d"):
        assert fetch(
            url,
            f"SELECT sum(requests), sum(input_tokens), sum(output_tokens), sum(cost_usd)"
            f" FROM usage_{level}",
        ) == raw, level  # fmt: skip
        assert fetch(
            url, f"SELECT sum(count) FROM latency_hist_{level} WHERE metric = 'duration'"
        ) == [(raw[0][0],)]
        assert fetch(
            url,
            f"SELECT sum(requests), sum(input_tokens), sum(output_tokens), sum(cost_usd)"
            f" FROM usage_estimated_{level}",
        ) == estimated, level  # fmt: skip
