"""Metric points in storage: rows from hand-off records, staging table, idempotent insert."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.storage.columns import (
    NANOS_TO_TIMESTAMP,
    identity_hash,
    json_text,
    jsonb_safe,
    pg_text,
    service_name,
)
from shared.metric_point import EXPONENTIAL_HISTOGRAM, HISTOGRAM, SUMMARY

# Staging columns, in COPY order.
STAGING_COLUMNS: tuple[str, ...] = (
    "project_id", "point_hash", "metric_name", "metric_type", "description", "unit",
    "time_unix_nano", "start_time_unix_nano", "received_unix_nano", "service_name", "attributes",
    "flags", "value", "value_int", "aggregation_temporality", "is_monotonic",
    "count", "sum", "min", "max", "bucket_counts", "explicit_bounds",
    "scale", "zero_count", "zero_threshold", "positive_offset", "positive_bucket_counts",
    "negative_offset", "negative_bucket_counts", "quantiles", "quantile_values",
    "exemplars", "metadata", "resource_attributes", "resource_schema_url", "scope_name",
    "scope_version", "scope_attributes",
)  # fmt: skip

CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS metric_points_staging (
    project_id text, point_hash bytea, metric_name text, metric_type text, description text,
    unit text, time_unix_nano bigint, start_time_unix_nano bigint, received_unix_nano bigint,
    service_name text, attributes jsonb, flags bigint, value double precision, value_int bigint,
    aggregation_temporality smallint, is_monotonic boolean, count bigint, sum double precision,
    min double precision, max double precision, bucket_counts bigint[],
    explicit_bounds double precision[], scale integer, zero_count bigint,
    zero_threshold double precision, positive_offset integer, positive_bucket_counts bigint[],
    negative_offset integer, negative_bucket_counts bigint[], quantiles double precision[],
    quantile_values double precision[], exemplars jsonb, metadata jsonb,
    resource_attributes jsonb, resource_schema_url text, scope_name text, scope_version text,
    scope_attributes jsonb
) ON COMMIT DELETE ROWS
"""

COPY = f"COPY metric_points_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN"

_PASSTHROUGH = [c for c in STAGING_COLUMNS if c != "received_unix_nano"]

# A redelivered point has the same hash and time: it inserts nothing (duplicates within one
# batch included, which DO NOTHING also skips).
INSERT = f"""
INSERT INTO metric_points ({", ".join(_PASSTHROUGH)}, time, start_time, received_at)
SELECT {", ".join(_PASSTHROUGH)},
       {NANOS_TO_TIMESTAMP.format("time_unix_nano")},
       CASE WHEN start_time_unix_nano > 0
            THEN {NANOS_TO_TIMESTAMP.format("start_time_unix_nano")} END,
       {NANOS_TO_TIMESTAMP.format("received_unix_nano")}
FROM metric_points_staging
ORDER BY project_id, point_hash, time_unix_nano
ON CONFLICT (project_id, point_hash, time) DO NOTHING
"""


def point_hash(record: dict[str, Any]) -> bytes:
    """The identity of a point: its series (resource, scope, metric, attributes) and times."""
    return identity_hash(
        record["resource_attributes"], record["scope_name"], record["scope_version"],
        record["metric_name"], record["metric_type"], record["attributes"],
        record["start_time_unix_nano"], record["time_unix_nano"],
    )  # fmt: skip


def point_row(record: dict[str, Any]) -> tuple[Any, ...]:
    """Return the staging row of one metric point record, in STAGING_COLUMNS order."""
    kind = record["metric_type"]
    value = record["value"]
    quantiles = record["quantile_values"]
    is_histogram = kind == HISTOGRAM
    is_exponential = kind == EXPONENTIAL_HISTOGRAM
    return (
        record["project_id"], point_hash(record), pg_text(record["metric_name"]), kind,
        pg_text(record["description"]), pg_text(record["unit"]),
        record["time_unix_nano"], record["start_time_unix_nano"], record["received_unix_nano"],
        service_name(record["resource_attributes"]), json_text(jsonb_safe(record["attributes"])),
        record["flags"], None if value is None else float(value),
        value if isinstance(value, int) and not isinstance(value, bool) else None,
        record["aggregation_temporality"] or None, record["is_monotonic"],
        record["count"], record["sum"], record["min"], record["max"],
        record["bucket_counts"] if is_histogram else None,
        record["explicit_bounds"] if is_histogram else None,
        record["scale"], record["zero_count"], record["zero_threshold"],
        record["positive_offset"], record["positive_bucket_counts"] if is_exponential else None,
        record["negative_offset"], record["negative_bucket_counts"] if is_exponential else None,
        [q["quantile"] for q in quantiles] if kind == SUMMARY else None,
        [q["value"] for q in quantiles] if kind == SUMMARY else None,
        json_text(jsonb_safe(record["exemplars"])), json_text(jsonb_safe(record["metadata"])),
        json_text(jsonb_safe(record["resource_attributes"])),
        pg_text(record["resource_schema_url"]), pg_text(record["scope_name"]),
        pg_text(record["scope_version"]), json_text(jsonb_safe(record["scope_attributes"])),
    )  # fmt: skip


def point_rows(records: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Return the staging rows of a batch of metric point records."""
    return [point_row(record) for record in records]
