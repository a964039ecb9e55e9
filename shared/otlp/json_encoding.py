"""OTLP/JSON request bodies: hex trace and span ids made bytes, then protobuf's JSON mapping.

OTLP specification, "JSON Protobuf Encoding": proto3 JSON with lowerCamelCase keys, except that
`traceId`/`spanId` (everywhere: spans, links, log records, exemplars) are hex, not base64, and
enums are integers; unknown fields are ignored. Ids are rewritten to the base64 that
`json_format.ParseDict` expects, walking only the messages that can hold an id.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Any, TypeVar

import orjson
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from shared.errors import BadInputError

MessageT = TypeVar("MessageT", bound=Message)

_ID_FIELDS = frozenset({"trace_id", "span_id", "parent_span_id"})
# Standard or URL-safe alphabet, padded or not.
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


class _IdError(Exception):
    """An id that is not hex; carries the JSON path from the failing field up."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem


def parse_json(body: bytes, message_type: type[MessageT]) -> MessageT:
    """Parse an OTLP/JSON body as `message_type`; BadInputError names the field at fault."""
    name = message_type.DESCRIPTOR.name
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadInputError(f"body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise BadInputError(f"body must be a JSON object (an OTLP/JSON {name})")
    try:
        _hex_ids_to_base64(document, message_type.DESCRIPTOR)
    except _IdError as exc:
        raise BadInputError(f"{exc.path}: {exc.problem}") from exc
    message: MessageT = message_type()
    try:
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise BadInputError(f"body is not a valid OTLP/JSON {name}: {exc}") from exc
    return message


def _hex_ids_to_base64(node: dict[str, Any], descriptor: Descriptor) -> None:
    """Rewrite, in place, every id of `node` and of the messages below it that can hold ids."""
    for key, field in _id_bearing_fields(descriptor):
        value = node.get(key)
        if value is None:
            continue
        if field.type == FieldDescriptor.TYPE_BYTES:
            node[key] = _id_to_base64(value, key)
        elif not field.is_repeated:
            _descend(value, field.message_type, key, None)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                _descend(item, field.message_type, key, index)


def _descend(node: Any, descriptor: Descriptor, key: str, index: int | None) -> None:
    if not isinstance(node, dict):
        return  # not a message: ParseDict reports it
    try:
        _hex_ids_to_base64(node, descriptor)
    except _IdError as exc:
        where = key if index is None else f"{key}[{index}]"
        raise _IdError(f"{where}.{exc.path}", exc.problem) from None


def _id_to_base64(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise _IdError(key, "must be a hex string")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = None
    if raw is not None and len(raw) * 2 == len(value):  # fromhex also skips spaces
        return base64.b64encode(raw).decode()
    if _is_base64_id(value):
        raise _IdError(
            key, f"{value!r} is base64; OTLP/JSON trace and span ids must be hex-encoded"
        )
    raise _IdError(key, f"{value!r} is not an even-length hex string")


def _is_base64_id(value: str) -> bool:
    """Whether `value` is base64 of a 16-byte trace id or an 8-byte span id (proto3 JSON's way)."""
    if not _BASE64.fullmatch(value):
        return False
    standard = value.replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except binascii.Error:
        return False
    return len(raw) in (8, 16)


@functools.cache
def _id_bearing_fields(descriptor: Descriptor) -> tuple[tuple[str, FieldDescriptor], ...]:
    """(JSON key, field) of the id fields and of the message fields that lead to one, under
    both spellings protobuf's parser accepts (lowerCamelCase and the original name)."""
    found: list[tuple[str, FieldDescriptor]] = []
    for field in descriptor.fields:
        leads_to_id = (field.type == FieldDescriptor.TYPE_BYTES and field.name in _ID_FIELDS) or (
            field.type == FieldDescriptor.TYPE_MESSAGE and _can_hold_ids(field.message_type)
        )
        if leads_to_id:
            found.extend((key, field) for key in dict.fromkeys((field.json_name, field.name)))
    return tuple(found)


def _can_hold_ids(descriptor: Descriptor, visiting: frozenset[str] = frozenset()) -> bool:
    if descriptor.full_name in visiting:
        return False  # recursive types (AnyValue) hold no ids
    visiting = visiting | {descriptor.full_name}
    return any(
        (field.type == FieldDescriptor.TYPE_BYTES and field.name in _ID_FIELDS)
        or (
            field.type == FieldDescriptor.TYPE_MESSAGE
            and _can_hold_ids(field.message_type, visiting)
        )
        for field in descriptor.fields
    )
