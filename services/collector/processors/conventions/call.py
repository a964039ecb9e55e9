"""One span's LLMCall: run its conventions in precedence order, then settle derived fields."""

from __future__ import annotations

from dataclasses import replace

from shared.span import Cost, LLMCall, Span

from .detect import conventions_of
from .draft import CallDraft
from .errors import offer_error
from .finish_reasons import normalize_finish_reason
from .messages import tool_calls_of
from .operations import PROVIDER_CALL_TYPES, canonical_operation, span_type_of
from .providers import provider_from_host, provider_from_model
from .usage import is_cache_excluding_provider, resolve_usage
from .values import as_str

# Span events whose first occurrence marks the first streamed chunk.
_FIRST_CHUNK_EVENTS = (
    "ai.stream.firstChunk",
    "First Token Stream Event",
    "gen_ai.content.completion.chunk",
    "llm.content.completion.chunk",
)
_SOURCE_RENAMES = {
    "reported_cost_usd": "cost.reported_usd",
    "ttft_seconds": "time_to_first_token_seconds",
}
_CONTENT_FIELDS = ("input_messages", "output_messages", "system_instructions")


def extract_call(span: Span, capture_content: bool = True) -> LLMCall | None:
    """The LLM call a span describes (trace context not applied), or None for other spans."""
    modules = conventions_of(span)
    if not modules:
        return None
    draft = CallDraft(span)
    for module in modules:
        module.extract(draft)
    _settle_operation(draft)
    _settle_provider(draft)
    _settle_streaming(draft)
    _settle_outputs(draft)
    finish_raw = tuple(draft.get("finish_reasons_raw") or ())
    finish = tuple(normalize_finish_reason(reason) for reason in finish_raw)
    offer_error(draft, finish)
    if not capture_content:
        for name in _CONTENT_FIELDS:
            draft.values.pop(name, None)
            draft.sources.pop(name, None)
    return _to_call(draft, modules[0].NAME, finish_raw, finish)


def _settle_operation(draft: CallDraft) -> None:
    if not draft.has("operation"):
        head = draft.span.name.split(" ", 1)[0]
        if span_type_of(canonical_operation(head)) is not None:
            draft.offer("operation", canonical_operation(head), "span.name")
    span_type = span_type_of(draft.get("operation"))
    draft.offer("span_type", span_type, draft.sources.get("operation", ""))
    # Any model without a known operation is a generation, as Langfuse also decides.
    if draft.has("request_model") or draft.has("response_model"):
        draft.offer("span_type", "llm", "model")
        if draft.get("span_type") == "llm":
            draft.offer("operation", "chat", "model")
    draft.offer("span_type", "other", "default")


def _settle_provider(draft: CallDraft) -> None:
    host = as_str(draft.attributes.get("server.address"))
    if host is not None:
        draft.offer("provider", provider_from_host(host), "server.address")
    for name in ("request_model", "response_model"):
        model = draft.get(name)
        if isinstance(model, str):
            draft.offer("provider", provider_from_model(model), f"{name}:model-name")


def _settle_streaming(draft: CallDraft) -> None:
    start = draft.span.start_time_unix_nano
    for event in draft.events(*_FIRST_CHUNK_EVENTS)[:1]:
        if event.time_unix_nano >= start:
            draft.offer("ttft_seconds", (event.time_unix_nano - start) / 1e9, f"event:{event.name}")
    if draft.has("ttft_seconds"):
        draft.offer("is_streaming", True, draft.sources["ttft_seconds"])
    if draft.get("operation") == "embeddings":
        draft.offer("is_streaming", False, "operation")


def _settle_outputs(draft: CallDraft) -> None:
    output = draft.get("output_messages") or []
    source = draft.sources.get("output_messages", "")
    reasons = [message["finish_reason"] for message in output if "finish_reason" in message]
    draft.offer("finish_reasons_raw", reasons, f"{source}#finish_reason")
    draft.offer("tool_calls", tool_calls_of(output), f"{source}#tool_call")


def _to_call(
    draft: CallDraft, convention: str, finish_raw: tuple[str, ...], finish: tuple[str, ...]
) -> LLMCall:
    values, sources = draft.values, draft.sources
    provider = values.get("provider")
    models = (values.get("request_model"), values.get("response_model"))
    usage = resolve_usage(
        values, sources, draft.input_includes_cache, is_cache_excluding_provider(provider, models)
    )
    # Draft names that differ from LLMCall's are renamed so sources key the record's fields.
    for draft_name, field_name in _SOURCE_RENAMES.items():
        if draft_name in sources:
            sources[field_name] = sources.pop(draft_name)
    response_model = models[1]
    span_type = values["span_type"]
    is_provider_call = span_type in PROVIDER_CALL_TYPES
    if (
        response_model is None
        and models[0] is not None
        and is_provider_call
        and usage.source == "reported"
    ):
        # A call that answered was answered by the model it asked for, unless told otherwise.
        response_model = models[0]
        sources["response_model"] = sources["request_model"]
    return LLMCall(
        convention=convention,
        span_type=span_type,
        is_counted=is_provider_call,
        provider=provider,
        provider_raw=values.get("provider_raw"),
        operation=values.get("operation"),
        request_model=models[0],
        response_model=response_model,
        response_id=values.get("response_id"),
        usage=usage,
        cost=Cost(reported_usd=values.get("reported_cost_usd")),
        finish_reasons=finish,
        finish_reasons_raw=finish_raw,
        time_to_first_token_seconds=values.get("ttft_seconds"),
        is_streaming=values.get("is_streaming"),
        input_messages=values.get("input_messages"),
        output_messages=values.get("output_messages"),
        system_instructions=values.get("system_instructions"),
        tool_calls=values.get("tool_calls"),
        tool_definitions=values.get("tool_definitions"),
        is_error=bool(values.get("is_error")),
        error_type=values.get("error_type"),
        error_message=values.get("error_message"),
        field_sources=dict(sources),
    )


def with_counted(call: LLMCall, is_counted: bool, reason: str) -> LLMCall:
    """The call with its counting decision and the reason recorded in field_sources."""
    return replace(
        call, is_counted=is_counted, field_sources={**call.field_sources, "is_counted": reason}
    )
