"""Decoding of ExportTraceServiceRequest into canonical spans, rejecting malformed ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanPb

from shared.otlp.anyvalue import attributes_to_dict
from shared.otlp.rejections import INT64_MAX, Rejections
from shared.span import Span, SpanEvent, SpanLink

_ZERO_TRACE_ID = bytes(16)
_ZERO_SPAN_ID = bytes(8)
# The spans table's integer columns hold the dropped counts (uint32 in OTLP).
_INT32_MAX = 2**31 - 1


@dataclass(slots=True)
class DecodedTraces(Rejections):
    """The spans of one request that were accepted, and why others were rejected."""

    NOUN: ClassVar[str] = "span"

    spans: list[Span] = field(default_factory=list)


def decode_export_request(
    request: ExportTraceServiceRequest, project_id: str, received_unix_nano: int
) -> DecodedTraces:
    """Decode every span of the request; malformed spans are rejected one by one."""
    result = DecodedTraces()
    for resource_spans in request.resource_spans:
        resource_attributes = attributes_to_dict(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            scope_attributes = attributes_to_dict(scope.attributes)
            for span_pb in scope_spans.spans:
                reason = _invalid_reason(span_pb)
                if reason:
                    result.reject(reason)
                    continue
                result.spans.append(
                    Span(
                        project_id=project_id,
                        trace_id=span_pb.trace_id.hex(),
                        span_id=span_pb.span_id.hex(),
                        parent_span_id=span_pb.parent_span_id.hex() or None,
                        name=span_pb.name,
                        kind=span_pb.kind,
                        start_time_unix_nano=span_pb.start_time_unix_nano,
                        end_time_unix_nano=span_pb.end_time_unix_nano,
                        status_code=span_pb.status.code,
                        status_message=span_pb.status.message,
                        trace_state=span_pb.trace_state,
                        flags=span_pb.flags,
                        attributes=attributes_to_dict(span_pb.attributes),
                        events=tuple(_event(event) for event in span_pb.events),
                        links=tuple(_link(link) for link in span_pb.links),
                        dropped_attributes_count=span_pb.dropped_attributes_count,
                        dropped_events_count=span_pb.dropped_events_count,
                        dropped_links_count=span_pb.dropped_links_count,
                        resource_attributes=resource_attributes,
                        resource_schema_url=resource_spans.schema_url,
                        scope_name=scope.name,
                        scope_version=scope.version,
                        scope_attributes=scope_attributes,
                        received_unix_nano=received_unix_nano,
                    )
                )
    return result


def _invalid_reason(span: SpanPb) -> str:
    """Why a span cannot be stored, or '' when it can (OTLP spec: ids must be valid)."""
    if len(span.trace_id) != 16 or span.trace_id == _ZERO_TRACE_ID:
        return "trace_id must be 16 non-zero bytes"
    if len(span.span_id) != 8 or span.span_id == _ZERO_SPAN_ID:
        return "span_id must be 8 non-zero bytes"
    if span.parent_span_id and len(span.parent_span_id) != 8:
        return "parent_span_id must be empty or 8 bytes"
    if span.start_time_unix_nano == 0:
        return "start_time_unix_nano is missing"
    if span.end_time_unix_nano and span.end_time_unix_nano < span.start_time_unix_nano:
        return "end_time_unix_nano is before start_time_unix_nano"
    # Past what the columns hold, a span would fail its whole batch in storage, again and again.
    if span.end_time_unix_nano > INT64_MAX or span.start_time_unix_nano > INT64_MAX:
        return "start_time_unix_nano or end_time_unix_nano is out of range"
    if max(span.dropped_attributes_count, span.dropped_events_count,
           span.dropped_links_count) > _INT32_MAX:  # fmt: skip
        return "dropped_attributes_count, dropped_events_count or dropped_links_count is too large"
    return ""


def _event(event: SpanPb.Event) -> SpanEvent:
    return SpanEvent(
        time_unix_nano=event.time_unix_nano,
        name=event.name,
        attributes=attributes_to_dict(event.attributes),
        dropped_attributes_count=event.dropped_attributes_count,
    )


def _link(link: SpanPb.Link) -> SpanLink:
    return SpanLink(
        trace_id=link.trace_id.hex(),
        span_id=link.span_id.hex(),
        trace_state=link.trace_state,
        attributes=attributes_to_dict(link.attributes),
        dropped_attributes_count=link.dropped_attributes_count,
        flags=link.flags,
    )
