"""Sorted, keyset-paginated lists: the sort keys a list offers and the cursors that resume it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from services.api.cursor import decode_cursor, encode_cursor
from shared.errors import BadInputError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BAD_CURSOR = "parameter 'cursor' is not a cursor this API issued for this sort"


@dataclass(frozen=True, slots=True)
class SortKey:
    """A sort a list offers: its SQL expression and how its values travel in a cursor."""

    expression: str
    # "instant" (epoch microseconds), "number" (float), "decimal" (exact string), "integer".
    encoding: str

    def after(self) -> str:
        """The SQL of the cursor's bound value, of the expression's type."""
        return {
            "instant": "'epoch'::timestamptz + %(after)s::bigint * interval '1 microsecond'",
            "number": "%(after)s::float8",
            "decimal": "%(after)s::numeric",
            "integer": "%(after)s::bigint",
        }[self.encoding]


def sort_parts(key: SortKey, order: str) -> dict[str, str]:
    """The SQL constants of a sort: key, direction and the keyset comparison."""
    is_descending = order == "desc"
    return {
        "sort_key": key.expression,
        "direction": "DESC" if is_descending else "ASC",
        "comparison": "<" if is_descending else ">",
        "after": key.after(),
    }


def encode_position(sort: str, key: SortKey, value: Any, ids: list[str]) -> str:
    """A cursor after a row: the sort's name, its value, then the row's ids."""
    return encode_cursor([sort, _encode_value(key, value), *ids])


def decode_position(cursor: str | None, sort: str, key: SortKey, ids: int) -> dict[str, Any]:
    """The bound values resuming after a cursor (`after`, `after_id`, ...), or all None."""
    names = ["after_id", "after_span_id"][:ids]
    if not cursor:
        return {"after": None, **dict.fromkeys(names)}
    values = decode_cursor(cursor, 2 + ids)
    if values[0] != sort or not all(isinstance(v, str) for v in values[2:]):
        raise BadInputError(_BAD_CURSOR)
    return {"after": _decode_value(key, values[1]), **dict(zip(names, values[2:], strict=True))}


def _encode_value(key: SortKey, value: Any) -> Any:
    if key.encoding == "instant":
        return (value - _EPOCH) // timedelta(microseconds=1)
    if key.encoding == "decimal":
        return str(value)
    return value


def _decode_value(key: SortKey, value: Any) -> Any:
    if key.encoding in ("instant", "integer"):
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**63:
            raise BadInputError(_BAD_CURSOR)
        return value
    if key.encoding == "decimal":
        try:
            if not isinstance(value, str) or not abs(Decimal(value)) < 10**18:
                raise BadInputError(_BAD_CURSOR)
        except InvalidOperation as exc:
            raise BadInputError(_BAD_CURSOR) from exc
        return value
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise BadInputError(_BAD_CURSOR)
    return float(value)
