"""Record values made fit for PostgreSQL columns: text and jsonb without NULs, identity hashes."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson

# Timestamps travel as nanoseconds and are converted in SQL, exactly (integer microseconds),
# rather than through floating point in Python.
NANOS_TO_TIMESTAMP = "'epoch'::timestamptz + ({0} / 1000) * interval '1 microsecond'"


def json_text(value: Any) -> str | None:
    """The JSON text of a value for a jsonb column; None stays NULL."""
    return None if value is None else orjson.dumps(value).decode()


def jsonb_safe(value: Any) -> Any:
    """PostgreSQL jsonb cannot hold NUL characters: escape them visibly rather than fail."""
    if isinstance(value, str):
        return value.replace("\x00", "\\u0000") if "\x00" in value else value
    if isinstance(value, dict):
        return {jsonb_safe(k): jsonb_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonb_safe(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def pg_text(value: str) -> str:
    """PostgreSQL text cannot hold NUL characters either."""
    return value.replace("\x00", "\\u0000") if "\x00" in value else value


def service_name(resource_attributes: dict[str, Any]) -> str:
    """The resource's `service.name`, or `unknown_service` as the SDKs default."""
    service = resource_attributes.get("service.name")
    return pg_text(service) if isinstance(service, str) and service else "unknown_service"


def identity_hash(*parts: Any) -> bytes:
    """A 16-byte hash of JSON values, independent of dict key order: equal parts, equal hash."""
    return hashlib.blake2b(
        orjson.dumps(parts, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).digest()
