"""The canonical span record every service speaks, and the LLM call fields normalisation fills."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Attribute values after decoding an OTLP AnyValue: kvlists become dicts, arrays lists,
# bytes stay bytes (the storage encoding turns them into base64 with a marker).
AttributeValue = Any
Attributes = dict[str, AttributeValue]

SPAN_KIND_NAMES = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
STATUS_CODE_NAMES = ("UNSET", "OK", "ERROR")


@dataclass(frozen=True, slots=True)
class SpanEvent:
    """A timed event on a span (OTLP Span.Event)."""

    time_unix_nano: int
    name: str
    attributes: Attributes = field(default_factory=dict)
    dropped_attributes_count: int = 0


@dataclass(frozen=True, slots=True)
class SpanLink:
    """A link from a span to another span (OTLP Span.Link)."""

    trace_id: str
    span_id: str
    trace_state: str = ""
    attributes: Attributes = field(default_factory=dict)
    dropped_attributes_count: int = 0
    flags: int = 0


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one LLM call; None means absent, never zero."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    input_tokens_provider_raw: int | None = None
    # "reported" by the instrumentation, "estimated" from content, or "absent".
    source: str = "absent"


@dataclass(frozen=True, slots=True)
class Cost:
    """Cost of one LLM call in USD, exact decimals, with the price that produced it."""

    total_usd: Decimal | None = None
    input_usd: Decimal | None = None
    output_usd: Decimal | None = None
    cache_read_usd: Decimal | None = None
    cache_write_usd: Decimal | None = None
    # "genai-prices", "project-override", or "unpriced".
    price_source: str = "unpriced"
    price_model: str | None = None
    price_version: str | None = None
    reported_usd: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LLMCall:
    """What normalisation learnt about a span that belongs to an LLM application."""

    convention: str
    # "llm" (a real provider call), "embedding", "tool", "agent", "workflow", "chain",
    # "retrieval", "rerank", "guardrail", "evaluator" or "other".
    span_type: str
    # True for spans whose usage counts towards totals: one per real provider call.
    is_counted: bool = True
    provider: str | None = None
    # The provider value as the instrumentation sent it, before mapping.
    provider_raw: str | None = None
    operation: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    response_id: str | None = None
    usage: Usage = field(default_factory=Usage)
    cost: Cost = field(default_factory=Cost)
    finish_reasons: tuple[str, ...] = ()
    finish_reasons_raw: tuple[str, ...] = ()
    time_to_first_token_seconds: float | None = None
    is_streaming: bool | None = None
    session_id: str | None = None
    user_id: str | None = None
    tags: tuple[str, ...] = ()
    # Messages in the OTel GenAI shape: {"role", "parts": [...], "name"?, "finish_reason"?};
    # see services/collector/processors/conventions/messages.py.
    input_messages: list[Any] | None = None
    output_messages: list[Any] | None = None
    # Instructions passed apart from the chat history (OTel `gen_ai.system_instructions`): parts.
    system_instructions: list[Any] | None = None
    # {"id", "name", "arguments"} per call the model asked for (plus "result" on tool spans).
    tool_calls: list[Any] | None = None
    # Tool definitions offered to the model: {"type", "name", "description"?, "parameters"?}.
    tool_definitions: list[Any] | None = None
    is_error: bool = False
    error_type: str | None = None
    error_message: str | None = None
    # Canonical field name -> the attribute (or event) that supplied it.
    field_sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TraceIdentity:
    """Session, user and tags a span states for its trace (kept also on spans that are no LLM
    call, so that calls arriving later in other requests can inherit them)."""

    session_id: str | None = None
    user_id: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Span:
    """One span as received, with ids in lowercase hex and times in Unix nanoseconds."""

    project_id: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: int
    start_time_unix_nano: int
    end_time_unix_nano: int
    status_code: int = 0
    status_message: str = ""
    trace_state: str = ""
    flags: int = 0
    attributes: Attributes = field(default_factory=dict)
    events: tuple[SpanEvent, ...] = ()
    links: tuple[SpanLink, ...] = ()
    dropped_attributes_count: int = 0
    dropped_events_count: int = 0
    dropped_links_count: int = 0
    resource_attributes: Attributes = field(default_factory=dict)
    resource_schema_url: str = ""
    scope_name: str = ""
    scope_version: str = ""
    scope_attributes: Attributes = field(default_factory=dict)
    # Collector receipt time, for freshness measurement.
    received_unix_nano: int = 0
    llm: LLMCall | None = None
    identity: TraceIdentity | None = None

    @property
    def service_name(self) -> str:
        """The resource's `service.name`, or `unknown_service` as the SDKs default."""
        value = self.resource_attributes.get("service.name")
        return value if isinstance(value, str) and value else "unknown_service"

    @property
    def duration_nano(self) -> int:
        """End minus start, never negative."""
        return max(0, self.end_time_unix_nano - self.start_time_unix_nano)
