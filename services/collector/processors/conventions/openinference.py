"""OpenInference (Arize Phoenix): `openinference.span.kind`, `llm.*`, flattened messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.span import Span

from .draft import CallDraft
from .messages import Message, canonical_message, canonical_tool_definition, text_message
from .providers import openinference_provider
from .values import as_bool, as_str, dig, parse_json, unflatten

NAME = "openinference"

_KINDS = {
    "LLM": ("chat", "llm"),
    "EMBEDDING": ("embeddings", "embedding"),
    "RETRIEVER": ("retrieval", "retrieval"),
    "TOOL": ("execute_tool", "tool"),
    "AGENT": ("invoke_agent", "agent"),
    "CHAIN": ("invoke_workflow", "chain"),
    "RERANKER": ("rerank", "rerank"),
    "GUARDRAIL": (None, "guardrail"),
    "EVALUATOR": (None, "evaluator"),
}
_TOKEN_KEYS = {
    "output_tokens": "llm.token_count.completion",
    "total_tokens": "llm.token_count.total",
    "cache_read_tokens": "llm.token_count.prompt_details.cache_read",
    "cache_write_tokens": "llm.token_count.prompt_details.cache_write",
    "reasoning_tokens": "llm.token_count.completion_details.reasoning",
}


def matches(span: Span) -> bool:
    """Whether the span carries the required `openinference.span.kind`."""
    return "openinference.span.kind" in span.attributes


def extract(draft: CallDraft) -> None:
    """Offer every field OpenInference attributes carry."""
    attributes = draft.attributes
    kind = (as_str(attributes.get("openinference.span.kind")) or "").upper()
    operation, span_type = _KINDS.get(kind, (None, "other"))
    if kind == "LLM" and any(key.startswith("llm.prompts.") for key in attributes):
        operation = "text_completion"
    draft.offer("operation", operation, "openinference.span.kind")
    draft.offer("span_type", span_type, "openinference.span.kind")
    system, provider = as_str(attributes.get("llm.system")), as_str(attributes.get("llm.provider"))
    raw = "/".join(value for value in (provider, system) if value) or None
    draft.offer_provider(raw, "llm.provider+llm.system", openinference_provider(system, provider))
    _extract_models(draft)
    draft.offer_input_tokens(
        attributes.get("llm.token_count.prompt"), "llm.token_count.prompt", True
    )
    for name, key in _TOKEN_KEYS.items():
        draft.offer_int(name, key)
    _extract_cost(draft)
    draft.offer_str("response_id", "llm.response.id")
    output = parse_json(attributes.get("output.value"))
    if isinstance(output, Mapping):
        draft.offer("response_id", as_str(output.get("id")), "output.value#id")
    finish = as_str(attributes.get("llm.finish_reason"))
    draft.offer("finish_reasons_raw", [finish] if finish else None, "llm.finish_reason")
    _extract_streaming(draft)
    _extract_messages(draft)
    _extract_tools(draft, span_type)


def _extract_models(draft: CallDraft) -> None:
    attributes = draft.attributes
    draft.offer_str("request_model", "llm.request.model_name")
    for key in ("llm.invocation_parameters", "embedding.invocation_parameters", "input.value"):
        draft.offer("request_model", as_str(dig(attributes.get(key), "model")), key + "#model")
    draft.offer_str("request_model", "llm.model_name", "embedding.model_name")
    draft.offer_str(
        "response_model", "llm.response.model_name", "llm.model_name", "embedding.model_name"
    )
    draft.offer(
        "response_model", as_str(dig(attributes.get("output.value"), "model")), "output.value#model"
    )


def _extract_cost(draft: CallDraft) -> None:
    attributes = draft.attributes
    draft.offer_cost(attributes.get("llm.cost.total"), "llm.cost.total")
    prompt, completion = attributes.get("llm.cost.prompt"), attributes.get("llm.cost.completion")
    if isinstance(prompt, (int, float)) and isinstance(completion, (int, float)):
        draft.offer_cost(prompt + completion, "llm.cost.prompt+llm.cost.completion")


def _extract_streaming(draft: CallDraft) -> None:
    if draft.events("First Token Stream Event"):
        draft.offer("is_streaming", True, "event:First Token Stream Event")
    parameters = parse_json(draft.attributes.get("llm.invocation_parameters"))
    if isinstance(parameters, Mapping):
        stream = as_bool(parameters.get("stream"))
        draft.offer("is_streaming", bool(stream), "llm.invocation_parameters#stream")


def _extract_messages(draft: CallDraft) -> None:
    attributes = draft.attributes
    for name, key, role in (
        ("input_messages", "llm.input_messages", "user"),
        ("output_messages", "llm.output_messages", "assistant"),
    ):
        flattened = unflatten(attributes, key)
        if isinstance(flattened, list):
            draft.offer(name, [_message(item, role) for item in flattened if item], key)
    prompts = unflatten(attributes, "llm.prompts")
    if isinstance(prompts, list):
        texts = [as_str(dig(item, "prompt", "text")) for item in prompts]
        draft.offer("input_messages", [text_message("user", t) for t in texts if t], "llm.prompts")
    choices = unflatten(attributes, "llm.choices")
    if isinstance(choices, list):
        texts = [as_str(dig(item, "completion", "text")) for item in choices]
        draft.offer(
            "output_messages", [text_message("assistant", t) for t in texts if t], "llm.choices"
        )
    embeddings = unflatten(attributes, "embedding.embeddings")
    if isinstance(embeddings, list):
        texts = [as_str(dig(item, "embedding", "text")) for item in embeddings]
        draft.offer(
            "input_messages", [text_message("user", t) for t in texts if t], "embedding.embeddings"
        )


def _message(item: Any, default_role: str) -> Message:
    """An OpenInference flattened message reshaped to the OpenAI form, then canonicalised."""
    message = item.get("message", {}) if isinstance(item, Mapping) else {}
    if not isinstance(message, Mapping):
        message = {}
    shaped: dict[str, Any] = {
        key: message[key] for key in ("role", "content", "name", "tool_call_id") if key in message
    }
    contents = message.get("contents")
    if isinstance(contents, list):
        shaped["content"] = [_content(entry) for entry in contents]
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        shaped["tool_calls"] = [
            entry.get("tool_call", {}) for entry in calls if isinstance(entry, Mapping)
        ]
    return canonical_message(shaped, default_role)


def _content(entry: Any) -> Any:
    content = entry.get("message_content", {}) if isinstance(entry, Mapping) else {}
    if not isinstance(content, Mapping):
        return {}
    kind = as_str(content.get("type")) or "text"
    if kind == "image":
        return {"type": "image_url", "image_url": {"url": dig(content, "image", "image", "url")}}
    if kind == "tool_use":
        return {"type": "tool_use", **{k: v for k, v in content.items() if k != "type"}}
    return {
        "type": kind,
        "text": content.get("text"),
        **({"id": content["id"]} if "id" in content else {}),
    }


def _extract_tools(draft: CallDraft, span_type: str) -> None:
    attributes = draft.attributes
    tools = unflatten(attributes, "llm.tools")
    if isinstance(tools, list):
        definitions = [
            canonical_tool_definition(dig(item, "tool", "json_schema")) for item in tools
        ]
        draft.offer("tool_definitions", [d for d in definitions if d], "llm.tools")
    name = as_str(attributes.get("tool.name"))
    if span_type == "tool" and name is not None:
        call: dict[str, Any] = {
            "id": as_str(attributes.get("tool.id")) or as_str(attributes.get("tool_call.id")),
            "name": name,
            "arguments": parse_json(attributes.get("input.value")),
        }
        if "output.value" in attributes:
            call["result"] = parse_json(attributes["output.value"])
        draft.offer("tool_calls", [call], "tool.name")
