"""Decoding of ExportLogsServiceRequest into canonical log records, rejecting malformed ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord as LogRecordPb

from shared.log_record import LogRecord
from shared.otlp.anyvalue import attributes_to_dict, to_python
from shared.otlp.rejections import INT64_MAX, Rejections

# SeverityNumber: 0 (unspecified) and 1 (TRACE) ... 24 (FATAL4).
_MAX_SEVERITY = 24


@dataclass(slots=True)
class DecodedLogs(Rejections):
    """The log records of one request that were accepted, and why others were rejected."""

    NOUN: ClassVar[str] = "log record"

    records: list[LogRecord] = field(default_factory=list)


def decode_logs_request(
    request: ExportLogsServiceRequest, project_id: str, received_unix_nano: int
) -> DecodedLogs:
    """Decode every log record of the request; malformed records are rejected one by one."""
    result = DecodedLogs()
    for resource_logs in request.resource_logs:
        resource_attributes = attributes_to_dict(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            scope_attributes = attributes_to_dict(scope.attributes)
            for record in scope_logs.log_records:
                reason = _invalid_reason(record)
                if reason:
                    result.reject(reason)
                    continue
                result.records.append(
                    LogRecord(
                        project_id=project_id,
                        time_unix_nano=record.time_unix_nano,
                        observed_time_unix_nano=record.observed_time_unix_nano,
                        severity_number=record.severity_number,
                        severity_text=record.severity_text,
                        body=to_python(record.body) if record.HasField("body") else None,
                        attributes=attributes_to_dict(record.attributes),
                        dropped_attributes_count=record.dropped_attributes_count,
                        flags=record.flags,
                        trace_id=_id_hex(record.trace_id),
                        span_id=_id_hex(record.span_id),
                        event_name=record.event_name,
                        resource_attributes=resource_attributes,
                        resource_schema_url=resource_logs.schema_url,
                        scope_name=scope.name,
                        scope_version=scope.version,
                        scope_attributes=scope_attributes,
                        received_unix_nano=received_unix_nano,
                    )
                )
    return result


def _invalid_reason(record: LogRecordPb) -> str:
    """Why a record cannot be stored, or '' when it can (ids are optional, but well-formed)."""
    if len(record.trace_id) not in (0, 16):
        return "trace_id must be empty or 16 bytes"
    if len(record.span_id) not in (0, 8):
        return "span_id must be empty or 8 bytes"
    if record.time_unix_nano > INT64_MAX or record.observed_time_unix_nano > INT64_MAX:
        return "time_unix_nano or observed_time_unix_nano is out of range"
    if not 0 <= record.severity_number <= _MAX_SEVERITY:
        return f"severity_number must be between 0 and {_MAX_SEVERITY}"
    return ""


def _id_hex(raw: bytes) -> str:
    """Lowercase hex, or '' for an absent id (all-zero ids are the spec's invalid, absent id)."""
    return raw.hex() if raw.strip(b"\x00") else ""
