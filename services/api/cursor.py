"""Opaque pagination cursors: base64url JSON of the last row's sort key."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from shared.errors import BadInputError


def encode_cursor(key: list[Any]) -> str:
    """Encode a sort key (JSON-serialisable values) as an opaque cursor."""
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """Decode a cursor holding a key of `size` values; 400 for anything else."""
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise BadInputError("parameter 'cursor' is not a cursor this API issued") from exc
    if not isinstance(key, list) or len(key) != size:
        raise BadInputError("parameter 'cursor' is not a cursor this API issued")
    return key
