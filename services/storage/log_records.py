"""Log records in storage: rows from hand-off records, staging table, idempotent insert."""

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

# Staging columns, in COPY order.
STAGING_COLUMNS: tuple[str, ...] = (
    "project_id", "record_hash", "time_unix_nano", "observed_time_unix_nano",
    "received_unix_nano", "trace_id", "span_id", "severity_number", "severity_text",
    "event_name", "body", "attributes", "dropped_attributes_count", "flags", "service_name",
    "resource_attributes", "resource_schema_url", "scope_name", "scope_version",
    "scope_attributes",
)  # fmt: skip

CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS log_records_staging (
    project_id text, record_hash bytea, time_unix_nano bigint, observed_time_unix_nano bigint,
    received_unix_nano bigint, trace_id text, span_id text, severity_number smallint,
    severity_text text, event_name text, body jsonb, attributes jsonb,
    dropped_attributes_count bigint, flags bigint, service_name text, resource_attributes jsonb,
    resource_schema_url text, scope_name text, scope_version text, scope_attributes jsonb
) ON COMMIT DELETE ROWS
"""

COPY = f"COPY log_records_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN"

_PASSTHROUGH = [c for c in STAGING_COLUMNS if c != "received_unix_nano"]

# The record's time: when it happened, else when it was observed, else when it was received
# (OTLP: time_unix_nano is optional; SDKs always set the observed time).
_TIME = (
    "CASE WHEN time_unix_nano > 0 THEN time_unix_nano "
    "WHEN observed_time_unix_nano > 0 THEN observed_time_unix_nano ELSE received_unix_nano END"
)

INSERT = f"""
INSERT INTO log_records ({", ".join(_PASSTHROUGH)}, time, received_at)
SELECT {", ".join(_PASSTHROUGH)},
       {NANOS_TO_TIMESTAMP.format(_TIME)},
       {NANOS_TO_TIMESTAMP.format("received_unix_nano")}
FROM log_records_staging
ORDER BY project_id, record_hash
ON CONFLICT (project_id, record_hash, time) DO NOTHING
"""  # fmt: skip


def record_hash(record: dict[str, Any]) -> bytes:
    """The identity of a log record: where it came from, its ids, times and content."""
    return identity_hash(
        record["resource_attributes"], record["scope_name"], record["scope_version"],
        record["trace_id"], record["span_id"], record["time_unix_nano"],
        record["observed_time_unix_nano"], record["severity_number"], record["event_name"],
        record["body"], record["attributes"],
    )  # fmt: skip


def log_row(record: dict[str, Any]) -> tuple[Any, ...]:
    """Return the staging row of one log record, in STAGING_COLUMNS order."""
    resource = record["resource_attributes"]
    return (
        record["project_id"], record_hash(record), record["time_unix_nano"],
        record["observed_time_unix_nano"], record["received_unix_nano"],
        record["trace_id"] or None, record["span_id"] or None, record["severity_number"],
        pg_text(record["severity_text"]), pg_text(record["event_name"]),
        json_text(jsonb_safe(record["body"])), json_text(jsonb_safe(record["attributes"])),
        record["dropped_attributes_count"], record["flags"], service_name(resource),
        json_text(jsonb_safe(resource)), pg_text(record["resource_schema_url"]),
        pg_text(record["scope_name"]), pg_text(record["scope_version"]),
        json_text(jsonb_safe(record["scope_attributes"])),
    )  # fmt: skip


def log_rows(records: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Return the staging rows of a batch of log records."""
    return [log_row(record) for record in records]
