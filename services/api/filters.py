"""The filters traces and LLM calls share: their parameters, and their SQL bound values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.api.spec import Args, Param
from services.api.timerange import QueryTooWideError, check_raw_range
from shared.errors import BadInputError

MAX_LIMIT = 1000
BIG = float(2**62)

RANGE = (
    Param("from", "datetime", "Start of the time range (inclusive), ISO-8601; UTC if no offset."),
    Param("to", "datetime", "End of the time range (exclusive), ISO-8601; UTC if no offset."),
)
PAGE = (
    Param("limit", "integer", "Items per page.", default=50, minimum=1, maximum=MAX_LIMIT),
    Param("cursor", "string", "Opaque cursor of the next page, from `next_cursor`.",
          max_length=500),
)  # fmt: skip
SORT = (
    Param("sort", "enum", "Sort key.", default="time", choices=("time", "duration", "cost")),
    Param("order", "enum", "Sort direction.", default="desc", choices=("desc", "asc")),
)
FILTERS = (
    *RANGE,
    Param("service", "string", "Service name (resource `service.name`)."),
    Param("environment", "string", "Deployment environment (`deployment.environment.name`)."),
    Param("provider", "string", "Provider of an LLM call (OTel `gen_ai.provider.name`)."),
    Param("model", "string", "Requested or responding model of an LLM call."),
    Param("operation", "string", "Operation of an LLM call (chat, embeddings, ...)."),
    Param("session", "string", "Session id."),
    Param("user", "string", "User id."),
    Param("tags", "string", "Tags that must all be present (repeat the parameter).",
          is_multiple=True),
    Param("tags_any", "string", "Tags of which at least one must be present (repeat it).",
          is_multiple=True),
    Param("has_error", "boolean", "Only with (true) or without (false) errors."),
    Param("min_duration_ms", "number", "Shortest duration, in milliseconds.", minimum=0,
          maximum=BIG),
    Param("max_duration_ms", "number", "Longest duration, in milliseconds.", minimum=0,
          maximum=BIG),
    Param("min_cost_usd", "number", "Lowest cost, in USD.", minimum=0, maximum=BIG),
    Param("max_cost_usd", "number", "Highest cost, in USD.", minimum=0, maximum=BIG),
    Param("min_tokens", "integer", "Fewest input plus output tokens.", minimum=0, maximum=BIG),
    Param("max_tokens", "integer", "Most input plus output tokens.", minimum=0, maximum=BIG),
    Param("name", "string", "Text the (root span's) name contains, ignoring case."),
    Param("text", "string", "Text contained in the messages of an LLM call, ignoring case."),
)  # fmt: skip


def filter_values(args: Args, project_id: str, max_raw_days: int) -> dict[str, Any]:
    """The bound values of every filter, for list_traces.sql and list_calls.sql.

    A search of message text reads every call's content: it needs a range of at most
    `max_raw_days` days (422 otherwise), where the other filters ride the time index.
    """
    check_range(args.get("from"), args.get("to"))
    if args.get("text") is not None:
        start, end = args.get("from"), args.get("to") or datetime.now(UTC)
        if start is None:
            raise QueryTooWideError(
                f"parameter 'text' searches message content: give 'from' (and 'to') spanning "
                f"at most {max_raw_days} days"
            )
        check_raw_range(start, end, max_raw_days, "a text search")
    values = {param.name: args.get(param.name) for param in FILTERS}
    values["project_id"] = project_id
    return values


def check_range(start: datetime | None, end: datetime | None) -> None:
    """A time range must not end before it starts."""
    if start is not None and end is not None and end <= start:
        raise BadInputError("parameter 'to' must be later than 'from'")
