"""Whether a call failed, with its error type and message (reference §8.4 "error")."""

from __future__ import annotations

import re

from shared.span import Span

from .draft import CallDraft
from .values import as_str

STATUS_ERROR = 2
_CLASS_REPR = re.compile(r"^<class '(.+)'>$")


def offer_error(draft: CallDraft, normalized_finish_reasons: tuple[str, ...]) -> None:
    """Offer is_error, error_type and error_message from status, attributes and events."""
    span = draft.span
    attributes = span.attributes
    level = (as_str(attributes.get("langfuse.observation.level")) or "").upper()
    is_error = (
        span.status_code == STATUS_ERROR
        or "error.type" in attributes
        or level in ("ERROR", "FATAL", "CRITICAL")
        or "error" in normalized_finish_reasons
    )
    draft.offer("is_error", is_error, "status.code")
    if not is_error:
        return
    exception = _first_exception(span)
    draft.offer_str("error_type", "error.type")
    draft.offer(
        "error_type", as_str(exception.get("exception.type")), "event:exception/exception.type"
    )
    draft.offer_str("error_type", "error.code")
    draft.offer("error_message", span.status_message or None, "status.message")
    draft.offer(
        "error_message",
        as_str(exception.get("exception.message")),
        "event:exception/exception.message",
    )
    draft.offer_str("error_message", "langfuse.observation.status_message", "error.message")
    error_type = draft.get("error_type")
    if isinstance(error_type, str):
        match = _CLASS_REPR.match(error_type)
        if match:
            draft.values["error_type"] = match.group(1)


def _first_exception(span: Span) -> dict[str, object]:
    events = sorted(
        (event for event in span.events if event.name == "exception"),
        key=lambda event: event.time_unix_nano,
    )
    return dict(events[0].attributes) if events else {}
