"""Redaction of every field of a span that can carry text, without mutating the span."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from shared.log_record import LogRecord
from shared.span import Attributes, LLMCall, Span, SpanEvent, SpanLink

from .kinds import Kind
from .policy import RedactPolicy
from .walker import DROPPED, Redactor

_LLM_FIELDS = (
    "input_messages", "output_messages", "tool_calls", "error_message", "user_id", "session_id",
    "tags",
)  # fmt: skip


class SpanRedactor:
    """Redacts the spans of one batch; detections accumulate in `found`, removals in
    `dropped_fields`. Strings seen twice in the batch (chat history) are redacted once."""

    def __init__(
        self,
        policy_for: Callable[[str], RedactPolicy],
        allow_keys: frozenset[str],
        allow_prefixes: tuple[str, ...],
    ) -> None:
        self._policy_for = policy_for
        self._allow_keys = allow_keys
        self._allow_prefixes = allow_prefixes
        self._redactors: dict[str, Redactor] = {}
        self.found: list[Kind] = []
        self.dropped_fields = 0

    def _redactor(self, project_id: str) -> Redactor:
        redactor = self._redactors.get(project_id)
        if redactor is None:
            redactor = self._redactors[project_id] = Redactor(self._policy_for(project_id))
        return redactor

    def log_record(self, record: LogRecord) -> LogRecord:
        """The log record with its body and attributes redacted (GenAI content events travel
        as log bodies); the same object when nothing needed redacting."""
        redactor = self._redactor(record.project_id)
        changes: dict[str, Any] = {}
        for name in ("attributes", "resource_attributes", "scope_attributes"):
            attributes = getattr(record, name)
            redacted = self._attributes(redactor, attributes)
            if redacted is not attributes:
                changes[name] = redacted
        if record.body is not None:
            body = self._field(redactor, record.body)
            if body is not record.body:
                changes["body"] = body
        return replace(record, **changes) if changes else record

    def span(self, span: Span) -> Span:
        """The span with its attributes, events, links, resource, scope, status message and
        LLM message fields redacted; the same object when nothing needed redacting."""
        redactor = self._redactor(span.project_id)
        changes: dict[str, Any] = {}
        for name in ("attributes", "resource_attributes", "scope_attributes"):
            attributes = getattr(span, name)
            redacted = self._attributes(redactor, attributes)
            if redacted is not attributes:
                changes[name] = redacted
        events = tuple(self._event(redactor, event) for event in span.events)
        if any(new is not old for new, old in zip(events, span.events, strict=True)):
            changes["events"] = events
        links = tuple(self._link(redactor, link) for link in span.links)
        if any(new is not old for new, old in zip(links, span.links, strict=True)):
            changes["links"] = links
        if span.status_message:
            message = self._field(redactor, span.status_message)
            if message is not span.status_message:
                changes["status_message"] = "" if message is None else message
        if span.llm is not None:
            llm = self._llm(redactor, span.llm)
            if llm is not span.llm:
                changes["llm"] = llm
        return replace(span, **changes) if changes else span

    def _attributes(self, redactor: Redactor, attributes: Attributes) -> Attributes:
        redacted: Attributes | None = None
        for key, value in attributes.items():
            if key in self._allow_keys or key.startswith(self._allow_prefixes):
                continue
            result, found = redactor.redact(value, key)
            if result is value:
                continue
            self.found += found
            if redacted is None:
                redacted = dict(attributes)
            if result is DROPPED:
                del redacted[key]
                self.dropped_fields += 1
            else:
                redacted[key] = result
        return attributes if redacted is None else redacted

    def _event(self, redactor: Redactor, event: SpanEvent) -> SpanEvent:
        attributes = self._attributes(redactor, event.attributes)
        return event if attributes is event.attributes else replace(event, attributes=attributes)

    def _link(self, redactor: Redactor, link: SpanLink) -> SpanLink:
        attributes = self._attributes(redactor, link.attributes)
        return link if attributes is link.attributes else replace(link, attributes=attributes)

    def _llm(self, redactor: Redactor, llm: LLMCall) -> LLMCall:
        changes: dict[str, Any] = {}
        for name in _LLM_FIELDS:
            value = getattr(llm, name)
            if value:
                result = self._field(redactor, value)
                if result is not value:
                    changes[name] = () if result is None and name == "tags" else result
        return replace(llm, **changes) if changes else llm

    def _field(self, redactor: Redactor, value: Any) -> Any:
        # A non-attribute field whose rule drops is emptied (None) rather than removed.
        result, found = redactor.redact(value)
        if result is value:
            return value
        self.found += found
        if result is DROPPED:
            self.dropped_fields += 1
            return None
        return result
