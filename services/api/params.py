"""Validation of query and path parameters; every error names the parameter."""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared.errors import BadInputError

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


def trace_id_param(value: str) -> str:
    """A trace id: 32 hex digits (case-insensitive), returned lowercase."""
    lowered = value.lower()
    if not _TRACE_ID.match(lowered) or lowered == "0" * 32:
        raise BadInputError(f"path parameter 'trace_id' must be 32 hex digits, got {value!r}")
    return lowered


def int_param(query: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    """An integer query parameter within [minimum, maximum]."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadInputError(f"parameter {name!r} must be an integer, got {raw!r}") from exc
    if not minimum <= value <= maximum:
        raise BadInputError(f"parameter {name!r} must be between {minimum} and {maximum}")
    return value
