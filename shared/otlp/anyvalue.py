"""Conversion of OTLP AnyValue / KeyValue lists into plain Python values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

# Deeper nesting than this is cut off: a hostile payload must not exhaust the stack.
MAX_DEPTH = 32


def to_python(value: AnyValue, depth: int = 0) -> Any:
    """Return the Python value of an AnyValue: kvlist -> dict, array -> list, empty -> None."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "double_value":
        return value.double_value
    if kind == "bytes_value":
        return value.bytes_value
    if depth >= MAX_DEPTH:
        return None
    if kind == "array_value":
        return [to_python(item, depth + 1) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: to_python(kv.value, depth + 1) for kv in value.kvlist_value.values}
    return None


def attributes_to_dict(attributes: Iterable[KeyValue]) -> dict[str, Any]:
    """Return the attributes as a dict; a repeated key keeps its last value, as SDKs do."""
    return {kv.key: to_python(kv.value) for kv in attributes}
