"""Declarative JSON request bodies: one field list both validates a body and documents it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.errors import BadInputError

MAX_TEXT_CHARS = 200
# Prices and similar amounts: non-negative, at most 12 digits before the point.
MAX_DECIMAL = Decimal(10) ** 12
MAX_INTEGER = 1_000_000_000
# Counts by unit (usage limits): at most this many units, amounts in thousandths at most.
MAX_UNITS = 16
UNIT_PATTERN = "[a-z][a-z0-9_]{0,31}"


@dataclass(frozen=True, slots=True)
class Field:
    """One property of a JSON object body."""

    name: str
    # string, enum, decimal (a JSON string or number), boolean, enums (a list), integer
    # (0 to MAX_INTEGER), counts (an object of unit -> non-negative amount, in milli-units)
    kind: str
    description: str
    is_required: bool = False
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    pattern_hint: str = ""

    def schema(self) -> dict[str, Any]:
        """The property's JSON Schema."""
        if self.kind == "enum":
            return {"type": "string", "enum": list(self.choices), "description": self.description}
        if self.kind == "enums":
            return {
                "type": "array", "items": {"type": "string", "enum": list(self.choices)},
                "minItems": 1, "description": self.description,
            }  # fmt: skip
        if self.kind == "decimal":
            return {
                "type": ["string", "number"], "description": self.description,
                "pattern": r"^[0-9]+(\.[0-9]+)?$", "minimum": 0,
            }  # fmt: skip
        if self.kind == "boolean":
            return {"type": "boolean", "description": self.description}
        if self.kind == "integer":
            return {
                "type": "integer", "minimum": 0, "maximum": MAX_INTEGER,
                "description": self.description,
            }  # fmt: skip
        if self.kind == "counts":
            return {
                "type": "object", "description": self.description, "maxProperties": MAX_UNITS,
                "propertyNames": {"pattern": f"^{UNIT_PATTERN}$"},
                "additionalProperties": {"type": "number", "minimum": 0, "maximum": MAX_INTEGER},
            }  # fmt: skip
        schema: dict[str, Any] = {
            "type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS,
            "description": self.description,
        }  # fmt: skip
        if self.pattern:
            schema["pattern"] = f"^(?:{self.pattern})$"
        return schema


def body_schema(fields: tuple[Field, ...]) -> dict[str, Any]:
    """The JSON Schema of an object body with these fields (no others)."""
    return {
        "type": "object",
        "properties": {field.name: field.schema() for field in fields},
        "required": [field.name for field in fields if field.is_required],
        "additionalProperties": False,
    }


def parse_body(fields: tuple[Field, ...], body: Any) -> dict[str, Any]:
    """Validate a body; BadInputError names the first bad field."""
    if not isinstance(body, dict):
        raise BadInputError("the request body must be a JSON object")
    known = {field.name for field in fields}
    unknown = sorted(set(body) - known)
    if unknown:
        raise BadInputError(f"unknown field(s) {', '.join(map(repr, unknown))} in the body")
    values: dict[str, Any] = {}
    for field in fields:
        raw = body.get(field.name)
        if raw is None:
            if field.is_required:
                raise BadInputError(f"field {field.name!r} is required")
            values[field.name] = None
            continue
        values[field.name] = _convert(field, raw)
    return values


def _convert(field: Field, raw: Any) -> Any:
    name = field.name
    if field.kind == "boolean":
        if not isinstance(raw, bool):
            raise BadInputError(f"field {name!r} must be true or false")
        return raw
    if field.kind == "decimal":
        return _decimal(name, raw)
    if field.kind == "integer":
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_INTEGER:
            raise BadInputError(f"field {name!r} must be an integer from 0 to {MAX_INTEGER}")
        return raw
    if field.kind == "counts":
        return _counts(name, raw)
    if field.kind == "enums":
        if not isinstance(raw, list) or not raw or not all(item in field.choices for item in raw):
            raise BadInputError(f"field {name!r} must be a non-empty list of {field.choices}")
        return tuple(dict.fromkeys(raw))
    if not isinstance(raw, str) or not raw or len(raw) > MAX_TEXT_CHARS or "\x00" in raw:
        raise BadInputError(f"field {name!r} must be a string of 1 to {MAX_TEXT_CHARS} characters")
    if field.kind == "enum" and raw not in field.choices:
        raise BadInputError(f"field {name!r} must be one of {', '.join(field.choices)}")
    if field.pattern and not re.fullmatch(field.pattern, raw):
        raise BadInputError(f"field {name!r} must be {field.pattern_hint or field.pattern}")
    return raw


def _decimal(name: str, raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise BadInputError(f"field {name!r} must be a decimal number")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise BadInputError(f"field {name!r} must be a decimal number") from exc
    if not value.is_finite() or value < 0 or value >= MAX_DECIMAL:
        raise BadInputError(f"field {name!r} must be a non-negative number below 10^12")
    return value


def _counts(name: str, raw: Any) -> dict[str, int]:
    """Amounts by unit, in integer milli-units (thousandths are the finest amount kept)."""
    if not isinstance(raw, dict) or len(raw) > MAX_UNITS:
        raise BadInputError(f"field {name!r} must be an object of at most {MAX_UNITS} units")
    counts: dict[str, int] = {}
    for unit, amount in raw.items():
        if not re.fullmatch(UNIT_PATTERN, unit):
            raise BadInputError(f"field {name!r}: unit {unit[:40]!r} must match {UNIT_PATTERN}")
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise BadInputError(f"field {name!r}: {unit} must be a number")
        milli = Decimal(str(amount)) * 1000
        if not milli.is_finite() or milli < 0 or milli > MAX_INTEGER * 1000:
            raise BadInputError(f"field {name!r}: {unit} must be from 0 to {MAX_INTEGER}")
        if milli != milli.to_integral_value():
            raise BadInputError(f"field {name!r}: {unit} has more than 3 decimals")
        counts[unit] = int(milli)
    return counts
