"""Vercel AI SDK telemetry (`ai.*` spans, scope `ai`): provider calls, wrappers and tool calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.span import Span

from .draft import CallDraft
from .messages import (
    Message,
    canonical_messages,
    canonical_part,
    canonical_tool_definition,
    text_message,
)
from .values import as_str, dig, parse_json

NAME = "vercel_ai"

_CALL_SUFFIXES = {".doGenerate": "chat", ".doStream": "chat", ".doEmbed": "embeddings"}
_EMBED_WRAPPERS = ("ai.embed", "ai.embedMany")
_TOKEN_KEYS = {
    "output_tokens": ("ai.usage.outputTokens", "ai.usage.completionTokens"),
    "total_tokens": ("ai.usage.totalTokens",),
    "cache_read_tokens": (
        "ai.usage.inputTokenDetails.cacheReadTokens",
        "ai.usage.cachedInputTokens",
    ),
    "cache_write_tokens": ("ai.usage.inputTokenDetails.cacheWriteTokens",),
    "reasoning_tokens": ("ai.usage.outputTokenDetails.reasoningTokens", "ai.usage.reasoningTokens"),
}
# ai.response.providerMetadata paths, per canonical field.
_METADATA_PATHS = {
    "cache_read_tokens": (
        ("openai", "cachedPromptTokens"),
        ("anthropic", "usage", "cache_read_input_tokens"),
        ("bedrock", "usage", "cacheReadInputTokens"),
    ),
    "cache_write_tokens": (
        ("anthropic", "usage", "cache_creation_input_tokens"),
        ("bedrock", "usage", "cacheWriteInputTokens"),
    ),
    "reasoning_tokens": (("openai", "reasoningTokens"),),
}


def matches(span: Span) -> bool:
    """Whether the span comes from the `ai` tracer or carries `ai.operationId`."""
    return span.scope_name == "ai" or "ai.operationId" in span.attributes


def extract(draft: CallDraft) -> None:
    """Offer every field the `ai.*` attributes carry."""
    attributes = draft.attributes
    operation_id = as_str(attributes.get("ai.operationId")) or draft.span.name
    _classify(draft, operation_id)
    draft.offer_provider(attributes.get("ai.model.provider"), "ai.model.provider")
    draft.offer_str("request_model", "ai.model.id")
    draft.offer_str("response_model", "ai.response.model")
    if operation_id.endswith(".doEmbed"):
        draft.offer_str("response_model", "ai.model.id")
    draft.offer_str("response_id", "ai.response.id")
    _extract_usage(draft)
    finish = as_str(attributes.get("ai.response.finishReason"))
    draft.offer("finish_reasons_raw", [finish] if finish else None, "ai.response.finishReason")
    for key in ("ai.response.msToFirstChunk", "ai.stream.msToFirstChunk"):
        value = attributes.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            draft.offer("ttft_seconds", value / 1000.0, key)
    _extract_content(draft)


def _classify(draft: CallDraft, operation_id: str) -> None:
    source = "ai.operationId"
    for suffix, operation in _CALL_SUFFIXES.items():
        if operation_id.endswith(suffix):
            draft.offer("operation", operation, source)
            draft.offer("is_streaming", suffix == ".doStream", source)
            return
    if operation_id == "ai.toolCall":
        draft.offer("operation", "execute_tool", source)
    elif operation_id in _EMBED_WRAPPERS:
        # The outer embed span repeats its `doEmbed` children's usage.
        draft.offer("span_type", "chain", source)
    elif operation_id.startswith("ai."):
        # Outer generateText/streamText/generateObject/streamObject: they aggregate all steps.
        draft.offer("operation", "invoke_agent", source)
        draft.offer("is_streaming", operation_id.startswith("ai.stream"), source)


def _extract_usage(draft: CallDraft) -> None:
    attributes = draft.attributes
    has_details = any(key.startswith("ai.usage.inputTokenDetails.") for key in attributes)
    provider = draft.get("provider")
    # v6+ report input including cache (details carry `noCacheTokens`); up to v5 the Anthropic
    # and Bedrock providers reported the raw, cache-excluding count.
    includes_cache = (
        True if has_details else (False if provider in ("anthropic", "aws.bedrock") else None)
    )
    for key in ("ai.usage.inputTokens", "ai.usage.promptTokens", "ai.usage.tokens"):
        draft.offer_input_tokens(attributes.get(key), key, includes_cache)
    for name, keys in _TOKEN_KEYS.items():
        draft.offer_int(name, *keys)
    if draft.sources.get("input_tokens") == "ai.usage.tokens":
        draft.offer_int("total_tokens", "ai.usage.tokens")
    metadata = parse_json(attributes.get("ai.response.providerMetadata"))
    if isinstance(metadata, Mapping):
        for name, paths in _METADATA_PATHS.items():
            for path in paths:
                value = dig(metadata, *path)
                draft.offer(
                    name,
                    value if isinstance(value, int) else None,
                    "ai.response.providerMetadata#" + ".".join(path),
                )


def _extract_content(draft: CallDraft) -> None:
    attributes = draft.attributes
    draft.offer(
        "input_messages",
        canonical_messages(attributes.get("ai.prompt.messages")),
        "ai.prompt.messages",
    )
    draft.offer("input_messages", _outer_prompt(attributes.get("ai.prompt")), "ai.prompt")
    values = attributes.get("ai.values")
    if isinstance(values, list):
        texts = [as_str(parse_json(value)) for value in values]
        draft.offer("input_messages", [text_message("user", t) for t in texts if t], "ai.values")
    value = as_str(parse_json(attributes.get("ai.value")))
    draft.offer("input_messages", [text_message("user", value)] if value else None, "ai.value")
    draft.offer("output_messages", _response_messages(attributes), "ai.response.text")
    tools = attributes.get("ai.prompt.tools")
    if isinstance(tools, list):
        definitions = [canonical_tool_definition(tool) for tool in tools]
        draft.offer("tool_definitions", [d for d in definitions if d], "ai.prompt.tools")
    name = as_str(attributes.get("ai.toolCall.name"))
    if name is not None:
        call: dict[str, Any] = {
            "id": as_str(attributes.get("ai.toolCall.id")),
            "name": name,
            "arguments": parse_json(attributes.get("ai.toolCall.args")),
        }
        if "ai.toolCall.result" in attributes:
            call["result"] = parse_json(attributes["ai.toolCall.result"])
        draft.offer("tool_calls", [call], "ai.toolCall.name")


def _outer_prompt(value: Any) -> list[Message] | None:
    prompt = parse_json(value)
    if not isinstance(prompt, Mapping):
        return canonical_messages(prompt)
    messages: list[Message] = []
    system = as_str(prompt.get("system"))
    if system is not None:
        messages.append(text_message("system", system))
    messages.extend(canonical_messages(prompt.get("messages")) or [])
    text = as_str(prompt.get("prompt"))
    if text is not None:
        messages.append(text_message("user", text))
    return messages or None


def _response_messages(attributes: Mapping[str, Any]) -> list[Message] | None:
    parts: list[dict[str, Any]] = []
    reasoning = as_str(attributes.get("ai.response.reasoning"))
    if reasoning is not None:
        parts.append({"type": "reasoning", "content": reasoning})
    text = as_str(attributes.get("ai.response.text"))
    if text is not None:
        parts.append({"type": "text", "content": text})
    calls = parse_json(attributes.get("ai.response.toolCalls"))
    if isinstance(calls, list):
        parts.extend(
            canonical_part({"type": "tool-call", **call})
            for call in calls
            if isinstance(call, Mapping)
        )
    finish = as_str(attributes.get("ai.response.finishReason"))
    if not parts:
        return None
    message: Message = {"role": "assistant", "parts": parts}
    if finish is not None:
        message["finish_reason"] = finish
    return [message]
