"""REST spans as OTel spans: an open span plus its completion becomes one GenAI-attributed Span."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from services.collector.rest_schema import Completion
from shared.span import Attributes, Span

SCOPE_NAME = "llmobs.rest"
SCOPE_VERSION = "1"
DEFAULT_SERVICE = "rest"
# The kind of a trace's root span, which REST clients never name themselves.
TRACE_KIND = "trace"
_SPAN_KIND_INTERNAL = 1
_SPAN_KIND_CLIENT = 3
_STATUS_OK = 1
_STATUS_ERROR = 2
# REST kinds onto OTel GenAI operations; chain, span and trace carry no GenAI operation.
_OPERATIONS = {
    "llm": "chat",
    "embedding": "embeddings",
    "tool": "execute_tool",
    "agent": "invoke_agent",
    "retrieval": "retrieval",
    "rerank": "rerank",
}
# Our usage fields onto the OTel GenAI names normalize reads.
_USAGE_ATTRIBUTES = {
    "input_tokens": "gen_ai.usage.input_tokens",
    "output_tokens": "gen_ai.usage.output_tokens",
    "total_tokens": "gen_ai.usage.total_tokens",
    "cache_read_tokens": "gen_ai.usage.cache_read.input_tokens",
    "cache_write_tokens": "gen_ai.usage.cache_creation.input_tokens",
    "reasoning_tokens": "gen_ai.usage.reasoning.output_tokens",
}


@dataclass(frozen=True, slots=True)
class OpenSpan:
    """A started span as held until it completes, with the trace facts stamped on it."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_time_unix_nano: int
    model: str | None = None
    provider: str | None = None
    input: Any = None
    tool_call_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    session_id: str | None = None
    user_id: str | None = None
    tags: tuple[str, ...] = ()
    service_name: str = DEFAULT_SERVICE

    def to_json(self) -> bytes:
        """The stored form."""
        return orjson.dumps(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> OpenSpan:
        """Read the stored form back."""
        values = orjson.loads(data)
        values["tags"] = tuple(values.get("tags") or ())
        return cls(**values)


def completion_to_json(completion: Completion) -> bytes:
    """The stored form of a completion (its end time already fixed)."""
    return orjson.dumps(completion)


def completion_from_json(data: bytes) -> Completion:
    """Read a stored completion back."""
    values = orjson.loads(data)
    values["finish_reasons"] = tuple(values.get("finish_reasons") or ())
    return Completion(**values)


def build_span(
    open_span: OpenSpan, completion: Completion, project_id: str, received_unix_nano: int
) -> Span:
    """The finished span; the same inputs always give the same span (safe to emit twice)."""
    end = completion.end_time_unix_nano or open_span.start_time_unix_nano
    status = _STATUS_ERROR if completion.is_error else 0
    if completion.status == "ok" and not completion.is_error:
        status = _STATUS_OK
    is_call = open_span.kind in ("llm", "embedding")
    return Span(
        project_id=project_id,
        trace_id=open_span.trace_id,
        span_id=open_span.span_id,
        parent_span_id=open_span.parent_span_id,
        name=open_span.name,
        kind=_SPAN_KIND_CLIENT if is_call else _SPAN_KIND_INTERNAL,
        start_time_unix_nano=open_span.start_time_unix_nano,
        end_time_unix_nano=max(end, open_span.start_time_unix_nano),
        status_code=status,
        status_message=(completion.error_message or "") if completion.is_error else "",
        attributes=span_attributes(open_span, completion),
        resource_attributes={"service.name": open_span.service_name},
        scope_name=SCOPE_NAME,
        scope_version=SCOPE_VERSION,
        received_unix_nano=received_unix_nano,
    )


def span_attributes(open_span: OpenSpan, completion: Completion) -> Attributes:
    """OTel attributes: trace identity, GenAI fields by kind, error, metadata under llmobs.*."""
    attributes: Attributes = {}
    if open_span.session_id:
        attributes["session.id"] = open_span.session_id
    if open_span.user_id:
        attributes["user.id"] = open_span.user_id
    if open_span.tags:
        attributes["tag.tags"] = list(open_span.tags)
    operation = _OPERATIONS.get(open_span.kind)
    if operation is None:
        _set_json(attributes, "llmobs.input", open_span.input)
        _set_json(attributes, "llmobs.output", completion.output)
    else:
        attributes["gen_ai.operation.name"] = operation
        attributes.update(_genai_attributes(open_span, completion))
    if completion.is_error:
        attributes["error.type"] = completion.error_type or "error"
    for key, value in {**open_span.metadata, **completion.metadata}.items():
        attributes[f"llmobs.metadata.{key}"] = value
    return attributes


def _genai_attributes(open_span: OpenSpan, completion: Completion) -> Attributes:
    attributes: Attributes = {}
    for key, value in (
        ("gen_ai.request.model", open_span.model),
        ("gen_ai.provider.name", open_span.provider),
        ("gen_ai.response.model", completion.response_model),
    ):
        if value:
            attributes[key] = value
    if completion.finish_reasons:
        attributes["gen_ai.response.finish_reasons"] = list(completion.finish_reasons)
    for name, count in completion.usage.items():
        attributes[_USAGE_ATTRIBUTES[name]] = count
    if open_span.kind == "tool":
        attributes["gen_ai.tool.name"] = open_span.name
        if open_span.tool_call_id:
            attributes["gen_ai.tool.call.id"] = open_span.tool_call_id
        _set_json(attributes, "gen_ai.tool.call.arguments", open_span.input)
        _set_json(attributes, "gen_ai.tool.call.result", completion.output)
    elif open_span.kind == "agent":
        attributes["gen_ai.agent.name"] = open_span.name
    elif open_span.kind == "llm":
        _set_json(attributes, "gen_ai.input.messages", _messages(open_span.input, "user"))
        _set_json(attributes, "gen_ai.output.messages", _messages(completion.output, "assistant"))
    else:
        _set_json(attributes, "llmobs.input", open_span.input)
        _set_json(attributes, "llmobs.output", completion.output)
    return attributes


def _messages(value: Any, role: str) -> Any:
    """Plain text becomes one message of `role`; message lists pass as given."""
    return [{"role": role, "content": value}] if isinstance(value, str) else value


def _set_json(attributes: Attributes, key: str, value: Any) -> None:
    """Structured content travels as a JSON string, as OTel SDKs send it."""
    if value is not None:
        attributes[key] = orjson.dumps(value).decode()
