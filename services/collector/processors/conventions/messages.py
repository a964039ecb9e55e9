"""Canonical chat messages: every convention's content is rewritten into the OTel GenAI shape.

A message is `{"role": str, "parts": [part, ...]}`, plus `"name"` when the sender is named and
`"finish_reason"` (raw) on output messages that carried one. Parts are discriminated by "type":
`{"type": "text", "content": str}`, `{"type": "reasoning", "content": str}`,
`{"type": "tool_call", "id": str | None, "name": str, "arguments": object | str}`,
`{"type": "tool_call_response", "id": str | None, "response": any}`,
`{"type": "uri", "modality": str, "uri": str}`; any other part (blob, file, provider-specific
blocks) is kept as the dict it arrived as. JSON-string tool arguments are parsed into objects
and kept as the raw string when they do not parse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .values import as_str, parse_json

Message = dict[str, Any]
Part = dict[str, Any]

_TEXT_TYPES = ("text", "input_text", "output_text")
_REASONING_TYPES = ("reasoning", "thinking", "redacted_thinking")
_TOOL_CALL_TYPES = ("tool_call", "tool-call", "tool_use", "function", "function_call")
_TOOL_RESULT_TYPES = ("tool_call_response", "tool-result", "tool_result", "function_call_output")


def canonical_messages(value: Any, default_role: str = "user") -> list[Message] | None:
    """Messages from a list, a JSON string, a `{"messages": [...]}` object or plain text."""
    parsed = parse_json(value)
    if isinstance(parsed, Mapping):
        if isinstance(parsed.get("messages"), list):
            parsed = parsed["messages"]
        elif "role" in parsed or "parts" in parsed or "content" in parsed:
            parsed = [parsed]
        else:
            return None
    if isinstance(parsed, str):
        return [text_message(default_role, parsed)] if parsed else None
    if not isinstance(parsed, list):
        return None
    messages = [
        canonical_message(item, default_role)
        for item in (parse_json(entry) for entry in parsed)
        if isinstance(item, Mapping)
    ]
    return messages or None


def canonical_message(message: Mapping[str, Any], default_role: str = "user") -> Message:
    """One message from OTel, OpenAI, Anthropic or Vercel shape."""
    role = as_str(message.get("role")) or default_role
    if isinstance(message.get("parts"), list):
        parts = [canonical_part(part) for part in message["parts"]]
    else:
        parts = _content_parts(message.get("content"))
        parts.extend(_tool_call_part(call) for call in _list(message.get("tool_calls")))
        if isinstance(message.get("function_call"), Mapping):
            parts.append(_tool_call_part(message["function_call"]))
        call_id = as_str(message.get("tool_call_id")) or as_str(message.get("id"))
        if role == "tool" and call_id is not None:
            parts = [_as_tool_response(part, call_id) for part in parts]
    result: Message = {"role": role, "parts": [part for part in parts if part]}
    for key in ("name", "finish_reason"):
        text = as_str(message.get(key))
        if text is not None:
            result[key] = text
    return result


def text_message(role: str, text: str) -> Message:
    """A message holding one text part."""
    return {"role": role, "parts": [{"type": "text", "content": text}]}


def canonical_part(part: Any) -> Part:
    """One content part in the canonical shape (unknown dicts are kept as they are)."""
    part = parse_json(part)
    if isinstance(part, str):
        return {"type": "text", "content": part}
    if not isinstance(part, Mapping):
        return {}
    kind = part.get("type")
    if kind in _TEXT_TYPES:
        return {"type": "text", "content": _first_str(part, "content", "text") or ""}
    if kind in _REASONING_TYPES:
        return {
            "type": "reasoning",
            "content": _first_str(part, "content", "text", "thinking") or "",
        }
    if kind in _TOOL_CALL_TYPES:
        return _tool_call_part(part)
    if kind in _TOOL_RESULT_TYPES:
        response = next(
            (part[k] for k in ("response", "output", "result", "content") if k in part), None
        )
        call_id = _first_str(part, "id", "toolCallId", "tool_use_id", "call_id")
        return {"type": "tool_call_response", "id": call_id, "response": parse_json(response)}
    if kind == "image_url":
        url = part.get("image_url")
        uri = as_str(url.get("url")) if isinstance(url, Mapping) else as_str(url)
        return {"type": "uri", "modality": "image", "uri": uri or ""}
    return dict(part)


def tool_calls_of(messages: list[Message] | None) -> list[dict[str, Any]]:
    """The tool calls requested in (output) messages: {"id", "name", "arguments"}."""
    calls = []
    for message in messages or []:
        for part in message.get("parts", []):
            if part.get("type") == "tool_call":
                calls.append({k: part.get(k) for k in ("id", "name", "arguments")})
    return calls


def message_text(message: Message) -> str:
    """All text and reasoning content of a message, newline-joined."""
    return "\n".join(
        str(part.get("content"))
        for part in message.get("parts", [])
        if part.get("type") in ("text", "reasoning") and part.get("content")
    )


def _content_parts(content: Any) -> list[Part]:
    if isinstance(content, str) and content.startswith("["):
        # A list content JSON-encoded into a string (Traceloop G1); other text stays text.
        blocks = parse_json(content)
        if isinstance(blocks, list) and all(isinstance(b, Mapping) and "type" in b for b in blocks):
            content = blocks
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}] if content else []
    if isinstance(content, Mapping):
        return [canonical_part(content)]
    if isinstance(content, list):
        return [canonical_part(item) for item in content]
    return [{"type": "text", "content": str(content)}]


def _tool_call_part(call: Any) -> Part:
    call = parse_json(call)
    if not isinstance(call, Mapping):
        return {}
    nested = call.get("function")
    function: Mapping[str, Any] = nested if isinstance(nested, Mapping) else call
    arguments = next(
        (function[k] for k in ("arguments", "input", "args") if function.get(k) is not None), None
    )
    return {
        "type": "tool_call",
        "id": _first_str(call, "id", "toolCallId", "call_id"),
        "name": _first_str(function, "name", "toolName") or "",
        "arguments": parse_json(arguments),
    }


def _as_tool_response(part: Part, call_id: str) -> Part:
    if part.get("type") == "text":
        return {"type": "tool_call_response", "id": call_id, "response": part.get("content")}
    return part


def _first_str(mapping: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        text = as_str(mapping.get(key))
        if text is not None:
            return text
    return None


def _list(value: Any) -> list[Any]:
    parsed = parse_json(value)
    return parsed if isinstance(parsed, list) else []


def canonical_tool_definition(definition: Any) -> dict[str, Any] | None:
    """A tool definition as {"type", "name", "description"?, "parameters"?}."""
    definition = parse_json(definition)
    if not isinstance(definition, Mapping):
        return None
    function = definition.get("function")
    source = function if isinstance(function, Mapping) else definition
    name = as_str(source.get("name"))
    if name is None:
        return None
    result: dict[str, Any] = {"type": as_str(definition.get("type")) or "function", "name": name}
    if as_str(source.get("description")) is not None:
        result["description"] = source["description"]
    parameters = next(
        (source[k] for k in ("parameters", "inputSchema", "input_schema") if k in source), None
    )
    if parameters is not None:
        result["parameters"] = parse_json(parameters)
    return result
