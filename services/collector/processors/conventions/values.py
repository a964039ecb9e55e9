"""Tolerant reads of decoded attribute values: strings, ints, JSON, flattened families."""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Mapping
from typing import Any

# Python-repr payloads (e.g. `gen_ai.prompt` of old emitters) are parsed only up to this size.
_MAX_LITERAL_CHARS = 1_000_000


def as_str(value: Any) -> str | None:
    """A non-empty string, or None; scalars other than bool are stringified."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def as_int(value: Any) -> int | None:
    """A non-negative integer from an int, an integral float or a numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value >= 0 and value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        try:
            return as_int(float(text))
        except ValueError:
            return None
    return None


def as_float(value: Any) -> float | None:
    """A finite float from a number or a numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def as_bool(value: Any) -> bool | None:
    """A boolean from a bool or the strings "true"/"false" in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
    return None


def parse_json(value: Any) -> Any:
    """Structured value from a JSON (or Python-repr) string, unwrapping double encoding."""
    for _ in range(3):
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text or text[0] not in '[{"':
            return value
        try:
            value = json.loads(text)
        except ValueError:
            return _parse_literal(text, value)
    return value


def _parse_literal(text: str, fallback: Any) -> Any:
    if len(text) > _MAX_LITERAL_CHARS or text[0] not in "[{":
        return fallback
    try:
        return _json_compatible(ast.literal_eval(text))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return fallback


def _json_compatible(value: Any) -> Any:
    """A Python literal as the JSON values the hand-off can carry: sets (in a stable order)
    and tuples become lists, dict keys text, other non-JSON scalars (complex, Ellipsis) text."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(key): _json_compatible(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return [_json_compatible(item) for item in sorted(value, key=repr)]
    if isinstance(value, list | tuple):
        return [_json_compatible(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def as_str_list(value: Any) -> list[str]:
    """Strings from an array, a JSON array string, a comma-separated string or a scalar."""
    parsed = parse_json(value)
    if isinstance(parsed, (list, tuple)):
        return [text for item in parsed if (text := as_str(item)) is not None]
    if isinstance(parsed, str):
        return [part.strip() for part in parsed.split(",") if part.strip()]
    text = as_str(parsed)
    return [text] if text is not None else []


def dig(value: Any, *path: str | int) -> Any:
    """The value at a path of keys/indexes inside (possibly JSON-encoded) nested data."""
    current = parse_json(value)
    for step in path:
        if (
            isinstance(step, int)
            and isinstance(current, list)
            and -len(current) <= step < len(current)
        ):
            current = parse_json(current[step])
        elif isinstance(step, str) and isinstance(current, Mapping):
            current = parse_json(current.get(step))
        else:
            return None
    return current


def unflatten(attributes: Mapping[str, Any], prefix: str) -> Any:
    """Regroup `prefix.N.a.b` keys into nested lists/dicts (sparse indexes keep their order)."""
    root: dict[Any, Any] = {}
    start = prefix + "."
    for key, value in attributes.items():
        if not key.startswith(start):
            continue
        node = root
        steps = [int(part) if part.isdigit() else part for part in key[len(start) :].split(".")]
        for step in steps[:-1]:
            child = node.get(step)
            if not isinstance(child, dict):
                child = node[step] = {}
            node = child
        node[steps[-1]] = value
    return _listify(root) if root else None


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(isinstance(key, int) for key in node):
        return [_listify(node[key]) for key in sorted(node)]
    return {str(key): _listify(value) for key, value in node.items()}


def prefixed(attributes: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Attributes under `prefix.` with the prefix removed (one flat level)."""
    start = prefix + "."
    return {key[len(start) :]: value for key, value in attributes.items() if key.startswith(start)}
