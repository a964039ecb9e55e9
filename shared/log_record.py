"""The canonical log record (OTLP LogRecord), ids in lowercase hex and times in Unix nanoseconds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.span import Attributes


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log record or event; `trace_id` and `span_id` are '' when it belongs to no span."""

    project_id: str
    # 0 when the source did not know the time of the event; see observed_time_unix_nano.
    time_unix_nano: int
    observed_time_unix_nano: int
    severity_number: int = 0
    severity_text: str = ""
    # The AnyValue body as plain Python (kvlist -> dict, array -> list); None when absent.
    body: Any = None
    attributes: Attributes = field(default_factory=dict)
    dropped_attributes_count: int = 0
    flags: int = 0
    trace_id: str = ""
    span_id: str = ""
    # Events (e.g. GenAI content events) name themselves here.
    event_name: str = ""
    resource_attributes: Attributes = field(default_factory=dict)
    resource_schema_url: str = ""
    scope_name: str = ""
    scope_version: str = ""
    scope_attributes: Attributes = field(default_factory=dict)
    # Collector receipt time, for freshness measurement.
    received_unix_nano: int = 0
