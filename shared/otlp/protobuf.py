"""Parsing binary protobuf OTLP requests, naming the string field when one is not UTF-8."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from shared.errors import BadInputError

MessageT = TypeVar("MessageT", bound=Message)

# Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5
# As deep as the parser itself goes (upb's default recursion limit).
_MAX_DEPTH = 100


def parse_protobuf(body: bytes, message_type: type[MessageT]) -> MessageT:
    """Parse `body` as `message_type`; BadInputError says what is wrong, naming the field path
    of a string that is not valid UTF-8 (proto3 strings must be)."""
    message: MessageT = message_type()
    try:
        message.ParseFromString(body)
    except DecodeError as exc:
        name = message_type.DESCRIPTOR.name
        path = find_invalid_utf8(body, message_type.DESCRIPTOR)
        if path:
            raise BadInputError(
                f"body is not a valid {name} protobuf: string field {path} is not valid UTF-8"
            ) from exc
        raise BadInputError(f"body is not a valid {name} protobuf: {exc}") from exc
    return message


def find_invalid_utf8(body: bytes, descriptor: Descriptor) -> str:
    """The path (e.g. `resource_spans[0].scope_spans[0].spans[2].name`) of the first string field
    holding invalid UTF-8, or '' when there is none or the bytes are not readable protobuf."""
    try:
        return _scan(memoryview(body), descriptor, 0)
    except (IndexError, ValueError):
        return ""


def _scan(data: memoryview, descriptor: Descriptor, depth: int) -> str:
    position = 0
    seen: dict[int, int] = {}
    while position < len(data):
        key, position = _varint(data, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            _, position = _varint(data, position)
        elif wire_type == _FIXED64:
            position += 8
        elif wire_type == _FIXED32:
            position += 4
        elif wire_type == _LENGTH_DELIMITED:
            length, position = _varint(data, position)
            chunk = data[position : position + length]
            position += length
            index = seen[number] = seen.get(number, -1) + 1
            found = _scan_field(descriptor.fields_by_number.get(number), index, chunk, depth)
            if found:
                return found
        else:
            raise ValueError("groups are not used by OTLP")
        if position > len(data):
            raise ValueError("truncated")
    return ""


def _scan_field(field: FieldDescriptor | None, index: int, chunk: memoryview, depth: int) -> str:
    if field is None:
        return ""
    label = f"{field.name}[{index}]" if field.is_repeated else field.name
    if field.type == FieldDescriptor.TYPE_STRING:
        try:
            str(chunk, "utf-8")
        except UnicodeDecodeError:
            return label
    elif field.type == FieldDescriptor.TYPE_MESSAGE and depth < _MAX_DEPTH:
        inner = _scan(chunk, field.message_type, depth + 1)
        if inner:
            return f"{label}.{inner}"
    return ""


def _varint(data: memoryview, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")
