"""normalize on spans built from the reference's exact attribute names, per emitter."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

from services.collector.processors.conventions.finish_reasons import normalize_finish_reason
from services.collector.processors.conventions.values import unflatten
from services.collector.processors.normalize import NormalizeConfig, build
from shared.span import LLMCall, Span, SpanEvent

START = 1_700_000_000_000_000_000
normalize = build(NormalizeConfig())


def make_span(
    name: str,
    attributes: dict[str, Any],
    *,
    span_id: str = "00000000000000a1",
    parent: str | None = None,
    trace_id: str = "0" * 31 + "1",
    scope: str = "",
    events: tuple[SpanEvent, ...] = (),
    status_code: int = 0,
    status_message: str = "",
) -> Span:
    """A decoded span as `shared.otlp` would produce it."""
    return Span(
        project_id="project-1",
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind=3,
        start_time_unix_nano=START,
        end_time_unix_nano=START + 2_000_000_000,
        status_code=status_code,
        status_message=status_message,
        attributes=attributes,
        events=events,
        scope_name=scope,
    )


def call_of(span: Span) -> LLMCall:
    """The call normalize produces for a span on its own."""
    [result] = normalize([span])
    assert result.llm is not None
    return result.llm


def calls_by_id(spans: list[Span]) -> dict[str, LLMCall | None]:
    return {span.span_id: span.llm for span in normalize(spans)}


def test_langfuse_generation_with_usage_details_cost_and_ttft() -> None:
    call = call_of(
        make_span(
            "generation",
            {
                "langfuse.observation.type": "generation",
                "langfuse.observation.model.name": "gpt-4o",
                "langfuse.observation.usage_details": json.dumps(
                    {
                        "input": 100,
                        "input_cached_tokens": 50,
                        "output": 20,
                        "output_reasoning_tokens": 5,
                        "total": 175,
                    }
                ),
                "langfuse.observation.cost_details": '{"input": 0.001, "total": 0.0012}',
                "langfuse.observation.completion_start_time": '"2023-11-14T22:13:20.250Z"',
                "langfuse.observation.input": '[{"role": "user", "content": "Hi there"}]',
                "langfuse.observation.output": '{"role": "assistant", "content": "Hello"}',
            },
            scope="langfuse-sdk",
        )
    )
    assert (call.convention, call.span_type, call.operation) == ("langfuse", "llm", "chat")
    assert (call.provider, call.request_model, call.response_model) == (
        "openai",
        "gpt-4o",
        "gpt-4o",
    )
    usage = call.usage
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (150, 50, 25)
    assert (usage.reasoning_tokens, usage.total_tokens, usage.source) == (5, 175, "reported")
    assert usage.input_tokens_provider_raw == 150
    assert call.cost.reported_usd == Decimal("0.0012")
    assert call.time_to_first_token_seconds == 0.25
    assert call.is_streaming is True
    assert call.input_messages == [
        {"role": "user", "parts": [{"type": "text", "content": "Hi there"}]}
    ]
    assert call.output_messages == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello"}]}
    ]


def test_langfuse_anthropic_input_is_rebuilt_from_its_net_parts() -> None:
    call = call_of(
        make_span(
            "generation",
            {
                "langfuse.observation.type": "generation",
                "langfuse.observation.model.name": "claude-sonnet-4-5",
                "langfuse.observation.usage_details": json.dumps(
                    {
                        "input": 473,
                        "input_cache_read": 1536,
                        "input_cache_creation": 256,
                        "output": 83,
                    }
                ),
            },
        )
    )
    assert (call.provider, call.usage.input_tokens, call.usage.input_tokens_provider_raw) == (
        "anthropic",
        2265,
        473,
    )
    assert (call.usage.cache_read_tokens, call.usage.cache_write_tokens) == (1536, 256)
    assert call.usage.total_tokens == 2348


def test_langfuse_trace_attributes_on_the_root_reach_the_generation() -> None:
    root = make_span(
        "request",
        {
            "langfuse.session.id": "s-1",
            "langfuse.user.id": "u-1",
            "langfuse.trace.tags": ["beta", "eu"],
        },
        span_id="00000000000000r1",
        scope="langfuse-sdk",
    )
    generation = make_span(
        "llm",
        {
            "langfuse.observation.type": "generation",
            "langfuse.observation.model.name": "gpt-4o",
            "langfuse.observation.level": "ERROR",
            "langfuse.observation.status_message": "boom",
        },
        span_id="00000000000000g1",
        parent="00000000000000r1",
        scope="langfuse-sdk",
    )
    calls = calls_by_id([generation, root])
    call = calls["00000000000000g1"]
    assert call is not None
    assert (call.session_id, call.user_id, call.tags) == ("s-1", "u-1", ("beta", "eu"))
    assert call.field_sources["session_id"] == "langfuse.session.id (span 00000000000000r1)"
    assert (call.is_error, call.error_message) == (True, "boom")
    root_call = calls["00000000000000r1"]
    assert root_call is not None and root_call.span_type == "other" and not root_call.is_counted


def test_pydantic_ai_agent_run_chat_and_tool_spans() -> None:
    agent = make_span(
        "agent run",
        {
            "gen_ai.agent.name": "weather_agent",
            "gen_ai.aggregated_usage.input_tokens": 300,
            "gen_ai.aggregated_usage.output_tokens": 40,
            "pydantic_ai.all_messages": json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]
            ),
        },
        span_id="00000000000000a1",
        scope="pydantic-ai",
    )
    chat = make_span(
        "chat gpt-4o",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.system": "openai",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.conversation.id": "conv-9",
            "gen_ai.input.messages": json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]
            ),
            "gen_ai.output.messages": json.dumps(
                [
                    {
                        "role": "assistant",
                        "finish_reason": "tool_call",
                        "parts": [
                            {
                                "type": "tool_call",
                                "id": "c1",
                                "name": "weather",
                                "arguments": '{"city": "Paris"}',
                            }
                        ],
                    }
                ]
            ),
            "gen_ai.usage.input_tokens": 300,
            "gen_ai.usage.output_tokens": 40,
            "gen_ai.usage.details.reasoning_tokens": 12,
            "gen_ai.usage.details.cache_read_tokens": 100,
            "operation.cost": 0.0025,
            "gen_ai.client.operation.time_to_first_chunk": 0.3,
        },
        span_id="00000000000000c1",
        parent="00000000000000a1",
        scope="pydantic-ai",
    )
    tool = make_span(
        "running tool",
        {
            "gen_ai.tool.name": "weather",
            "gen_ai.tool.call.id": "c1",
            "tool_arguments": '{"city": "Paris"}',
            "tool_response": "sunny",
        },
        span_id="00000000000000t1",
        parent="00000000000000a1",
        scope="pydantic-ai",
    )
    calls = calls_by_id([agent, chat, tool])
    agent_call, chat_call, tool_call = (calls[s.span_id] for s in (agent, chat, tool))
    assert agent_call is not None and chat_call is not None and tool_call is not None
    assert (agent_call.convention, agent_call.span_type, agent_call.is_counted) == (
        "logfire",
        "agent",
        False,
    )
    assert agent_call.usage.input_tokens == 300 and agent_call.input_messages
    assert (chat_call.span_type, chat_call.is_counted, chat_call.provider) == (
        "llm",
        True,
        "openai",
    )
    assert (chat_call.usage.reasoning_tokens, chat_call.usage.cache_read_tokens) == (12, 100)
    assert chat_call.cost.reported_usd == Decimal("0.0025")
    assert (chat_call.time_to_first_token_seconds, chat_call.is_streaming) == (0.3, True)
    assert chat_call.session_id == "conv-9"
    assert chat_call.finish_reasons_raw == ("tool_call",)
    assert chat_call.tool_calls == [{"id": "c1", "name": "weather", "arguments": {"city": "Paris"}}]
    assert (tool_call.span_type, tool_call.is_counted) == ("tool", False)
    assert tool_call.tool_calls == [
        {"id": "c1", "name": "weather", "arguments": {"city": "Paris"}, "result": "sunny"}
    ]


def test_logfire_semconv_v1_request_response_data_and_events() -> None:
    events = [
        {"event.name": "gen_ai.system.message", "content": "Be brief.", "role": "system"},
        {"event.name": "gen_ai.user.message", "content": "Capital of Italy?", "role": "user"},
        {
            "event.name": "gen_ai.choice",
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "Rome."},
        },
    ]
    call = call_of(
        make_span(
            "Chat Completion with {request_data[model]!r}",
            {
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "request_data": json.dumps({"model": "gpt-4o-mini", "stream": False}),
                "response_data": json.dumps(
                    {
                        "id": "chatcmpl-1",
                        "model": "gpt-4o-mini-2024-07-18",
                        "usage": {"prompt_tokens": 20, "completion_tokens": 3},
                    }
                ),
                "events": json.dumps(events),
                "logfire.msg": "Chat Completion with 'gpt-4o-mini'",
            },
            scope="logfire.openai",
        )
    )
    assert (call.convention, call.operation, call.span_type) == ("logfire", "chat", "llm")
    assert (call.response_id, call.response_model) == ("chatcmpl-1", "gpt-4o-mini-2024-07-18")
    assert (call.usage.input_tokens, call.usage.output_tokens, call.usage.total_tokens) == (
        20,
        3,
        23,
    )
    assert call.is_streaming is False
    assert [m["role"] for m in call.input_messages or []] == ["system", "user"]
    assert call.output_messages == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Rome."}],
            "finish_reason": "stop",
        }
    ]
    assert call.finish_reasons == ("stop",)


def test_litellm_v1_request_and_its_raw_child() -> None:
    request = make_span(
        "litellm_request",
        {
            "gen_ai.system": "azure",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.operation.name": "acompletion",
            "llm.request.type": "acompletion",
            "llm.is_streaming": "True",
            "llm.user": "request-user",
            "metadata.user_api_key_end_user_id": "end-user-7",
            "metadata.user_api_key_user_id": "key-owner",
            "gen_ai.response.id": "chatcmpl-x",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.usage.input_tokens": 50,
            "gen_ai.usage.output_tokens": 10,
            "gen_ai.usage.total_tokens": 60,
            "gen_ai.response.finish_reasons": '["stop"]',
            "gen_ai.cost.total_cost": 0.0004,
        },
        span_id="00000000000000l1",
        scope="litellm",
    )
    raw = make_span(
        "raw_gen_ai_request",
        {"llm.openai.model": "gpt-4o", "llm.openai.usage": '{"prompt_tokens": 50}'},
        span_id="00000000000000l2",
        parent="00000000000000l1",
        scope="litellm",
    )
    calls = calls_by_id([request, raw])
    call, raw_call = calls["00000000000000l1"], calls["00000000000000l2"]
    assert call is not None and raw_call is not None
    assert (call.convention, call.provider, call.provider_raw) == (
        "litellm",
        "azure.ai.openai",
        "azure",
    )
    assert (call.operation, call.is_streaming, call.finish_reasons_raw) == ("chat", True, ("stop",))
    assert call.user_id == "end-user-7"
    assert call.cost.reported_usd == Decimal("0.0004")
    assert (raw_call.span_type, raw_call.is_counted) == ("other", False)


def test_litellm_error_fields() -> None:
    call = call_of(
        make_span(
            "litellm_request",
            {
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o",
                "error.type": "RateLimitError",
                "error.message": "429 slow down",
                "error.code": "429",
            },
            scope="litellm",
            status_code=2,
        )
    )
    assert (call.is_error, call.error_type, call.error_message) == (
        True,
        "RateLimitError",
        "429 slow down",
    )
    assert call.usage.source == "absent"


def anthropic_sdk_span(**overrides: Any) -> Span:
    attributes = {
        "gen_ai.provider.name": "anthropic",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.response.model": "claude-sonnet-4-5-20250929",
        "gen_ai.response.id": "msg_1",
        "gen_ai.usage.input_tokens": 2265,
        "gen_ai.usage.output_tokens": 83,
        "gen_ai.usage.cache_read.input_tokens": 1536,
        "gen_ai.usage.cache_write.input_tokens": 256,
        "anthropic.message.stop_reason": "end_turn",
        "server.address": "api.anthropic.com",
    }
    return make_span(
        "anthropic.messages.create", attributes, scope="com.anthropic.sdk.python", **overrides
    )


def test_anthropic_sdk_span_alone_is_the_counted_call() -> None:
    call = call_of(anthropic_sdk_span())
    assert (call.convention, call.is_counted, call.provider) == ("anthropic_sdk", True, "anthropic")
    assert (call.usage.input_tokens, call.usage.input_tokens_provider_raw) == (2265, 473)
    assert (call.finish_reasons_raw, call.finish_reasons) == (("end_turn",), ("stop",))


def test_anthropic_sdk_span_under_a_framework_span_of_the_same_call_is_not_counted() -> None:
    framework = make_span(
        "anthropic.chat",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.usage.output_tokens": 83,
        },
        span_id="00000000000000f1",
    )
    sdk = anthropic_sdk_span(span_id="00000000000000f2", parent="00000000000000f1")
    calls = calls_by_id([sdk, framework])
    assert calls["00000000000000f1"] is not None and calls["00000000000000f1"].is_counted
    assert calls["00000000000000f2"] is not None and not calls["00000000000000f2"].is_counted


def test_generic_parent_child_duplicate_keeps_the_deepest_span() -> None:
    common = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o",
        "llm.token_count.prompt": 10,
        "llm.token_count.completion": 2,
    }
    outer = make_span("ChatOpenAI", dict(common), span_id="00000000000000o1")
    inner = make_span(
        "ChatCompletion", dict(common), span_id="00000000000000o2", parent="00000000000000o1"
    )
    other = make_span(
        "ChatCompletion",
        {**common, "llm.token_count.completion": 7},
        span_id="00000000000000o3",
        parent="00000000000000o1",
    )
    calls = calls_by_id([outer, inner, other])
    counted = {span_id for span_id, call in calls.items() if call is not None and call.is_counted}
    assert counted == {"00000000000000o2", "00000000000000o3"}


def test_otel_v126_names_and_content_events() -> None:
    events = (
        SpanEvent(
            START + 1,
            "gen_ai.content.prompt",
            {"gen_ai.prompt": "[{'role': 'user', 'content': 'Hello there'}]"},
        ),
        SpanEvent(
            START + 2,
            "gen_ai.content.completion",
            {"gen_ai.completion": '[{"role": "assistant", "content": "General Kenobi"}]'},
        ),
    )
    call = call_of(
        make_span(
            "chat gpt-3.5-turbo",
            {
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-3.5-turbo",
                "gen_ai.usage.prompt_tokens": 10,
                "gen_ai.usage.completion_tokens": 5,
                "gen_ai.response.finish_reasons": ["stop"],
            },
            events=events,
        )
    )
    assert (call.convention, call.operation, call.provider) == ("otel_genai", "chat", "openai")
    assert (call.usage.input_tokens, call.usage.output_tokens, call.usage.total_tokens) == (
        10,
        5,
        15,
    )
    assert call.input_messages == [
        {"role": "user", "parts": [{"type": "text", "content": "Hello there"}]}
    ]
    assert call.output_messages is not None
    assert call.output_messages[0]["parts"][0]["content"] == "General Kenobi"
    assert call.field_sources["input_messages"] == "event:gen_ai.content.prompt"


def test_otel_v128_per_message_events_and_choice() -> None:
    choice = {
        "index": 0,
        "finish_reason": "tool_calls",
        "message": {"role": "assistant"},
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"q": "x"}'},
            }
        ],
    }
    events = (
        SpanEvent(
            START + 1, "gen_ai.system.message", {"gen_ai.event.content": '{"content": "Be kind."}'}
        ),
        SpanEvent(START + 2, "gen_ai.user.message", {"content": "Find x"}),
        SpanEvent(START + 3, "gen_ai.choice", {"gen_ai.event.content": json.dumps(choice)}),
    )
    call = call_of(
        make_span(
            "chat gpt-4o",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o",
            },
            events=events,
        )
    )
    assert [m["role"] for m in call.input_messages or []] == ["system", "user"]
    assert call.finish_reasons_raw == ("tool_calls",)
    assert call.tool_calls == [{"id": "call_1", "name": "lookup", "arguments": {"q": "x"}}]


def test_otel_operation_details_event_carries_content_and_usage() -> None:
    details = {
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": "Q?"}]}],
        "gen_ai.output.messages": [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "A."}],
                "finish_reason": "stop",
            }
        ],
        "gen_ai.system_instructions": [{"type": "text", "content": "Answer tersely."}],
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 2,
    }
    event = SpanEvent(START + 5, "gen_ai.client.inference.operation.details", details)
    call = call_of(
        make_span(
            "chat m",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "groq",
                "gen_ai.request.model": "llama-3",
            },
            events=(event,),
        )
    )
    assert call.provider == "groq"
    assert call.usage.input_tokens == 7
    assert call.field_sources["input_messages"] == (
        "event:gen_ai.client.inference.operation.details/gen_ai.input.messages"
    )
    assert call.system_instructions == [{"type": "text", "content": "Answer tersely."}]
    assert call.finish_reasons_raw == ("stop",)


def test_traceloop_g0_flattened_prompts_and_completions() -> None:
    call = call_of(
        make_span(
            "openai.chat",
            {
                "llm.vendor": "OpenAI",
                "llm.request.type": "chat",
                "llm.request.model": "gpt-3.5-turbo",
                "llm.response.model": "gpt-3.5-turbo-0613",
                "llm.usage.prompt_tokens": 12,
                "llm.usage.completion_tokens": 4,
                "llm.usage.total_tokens": 16,
                "llm.is_streaming": False,
                "llm.prompts.0.role": "user",
                "llm.prompts.0.content": "Say hi",
                "llm.completions.0.role": "assistant",
                "llm.completions.0.content": "hi",
                "llm.completions.0.finish_reason": "stop",
            },
        )
    )
    assert (call.convention, call.provider, call.operation) == ("traceloop", "openai", "chat")
    assert (call.request_model, call.response_model) == ("gpt-3.5-turbo", "gpt-3.5-turbo-0613")
    assert (call.usage.input_tokens, call.usage.total_tokens, call.is_streaming) == (12, 16, False)
    assert call.finish_reasons_raw == ("stop",)
    assert call.output_messages == [
        {"role": "assistant", "parts": [{"type": "text", "content": "hi"}], "finish_reason": "stop"}
    ]


def test_traceloop_g1_anthropic_raw_input_gets_its_cache_added() -> None:
    call = call_of(
        make_span(
            "anthropic.chat",
            {
                "gen_ai.system": "Anthropic",
                "llm.request.type": "chat",
                "gen_ai.request.model": "claude-3-5-sonnet",
                "gen_ai.usage.prompt_tokens": 473,
                "gen_ai.usage.completion_tokens": 83,
                "gen_ai.usage.cache_read_input_tokens": 1536,
                "gen_ai.usage.cache_creation_input_tokens": 256,
                "gen_ai.prompt.0.role": "user",
                "gen_ai.prompt.0.content": "Weather?",
                "gen_ai.completion.0.role": "assistant",
                "gen_ai.completion.0.finish_reason": "tool_use",
                "gen_ai.completion.0.tool_calls.0.id": "toolu_1",
                "gen_ai.completion.0.tool_calls.0.name": "weather",
                "gen_ai.completion.0.tool_calls.0.arguments": '{"city": "Oslo"}',
                "traceloop.association.properties.session_id": "s-2",
            },
        )
    )
    assert (call.provider, call.usage.input_tokens, call.usage.input_tokens_provider_raw) == (
        "anthropic",
        2265,
        473,
    )
    assert (call.finish_reasons_raw, call.finish_reasons) == (("tool_use",), ("tool_call",))
    assert call.tool_calls == [{"id": "toolu_1", "name": "weather", "arguments": {"city": "Oslo"}}]
    assert call.session_id == "s-2"


def test_vercel_v5_anthropic_input_excludes_cache_and_is_rebuilt() -> None:
    metadata = {
        "anthropic": {
            "usage": {"cache_creation_input_tokens": 256, "cache_read_input_tokens": 1536}
        }
    }
    call = call_of(
        make_span(
            "ai.streamText.doStream",
            {
                "ai.operationId": "ai.streamText.doStream",
                "ai.model.provider": "anthropic.messages",
                "ai.model.id": "claude-sonnet-4-5",
                "ai.usage.inputTokens": 473,
                "ai.usage.outputTokens": 83,
                "ai.usage.cachedInputTokens": 1536,
                "ai.response.providerMetadata": json.dumps(metadata),
                "ai.response.msToFirstChunk": 120.0,
                "ai.response.finishReason": "stop",
                "ai.telemetry.metadata.tags": ["a", "b"],
            },
            scope="ai",
        )
    )
    assert (call.usage.input_tokens, call.usage.input_tokens_provider_raw) == (2265, 473)
    assert (call.usage.cache_read_tokens, call.usage.cache_write_tokens) == (1536, 256)
    assert (call.is_streaming, call.time_to_first_token_seconds) == (True, 0.12)
    assert call.tags == ("a", "b")


def test_vercel_v7_invoke_agent_wrapper_is_not_counted() -> None:
    agent = make_span(
        "invoke_agent gpt-4o",
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.provider.name": "openai",
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 10,
        },
        span_id="00000000000000v1",
        scope="ai",
    )
    chat = make_span(
        "chat gpt-4o",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 10,
            "gen_ai.response.finish_reasons": ["tool_call"],
        },
        span_id="00000000000000v2",
        parent="00000000000000v1",
        scope="ai",
    )
    calls = calls_by_id([agent, chat])
    assert calls["00000000000000v1"] is not None
    assert (calls["00000000000000v1"].span_type, calls["00000000000000v1"].is_counted) == (
        "agent",
        False,
    )
    assert calls["00000000000000v2"] is not None and calls["00000000000000v2"].is_counted


def test_openinference_hosting_provider_chain_and_tool_spans() -> None:
    chain = make_span(
        "RunnableSequence",
        {
            "openinference.span.kind": "CHAIN",
            "session.id": "s-3",
            "user.id": "u-3",
            "tag.tags": ["prod"],
            "metadata": '{"k": "v"}',
        },
        span_id="00000000000000c1",
    )
    llm = make_span(
        "AzureChatOpenAI",
        {
            "openinference.span.kind": "LLM",
            "llm.provider": "azure",
            "llm.system": "openai",
            "llm.model_name": "gpt-4o",
            "llm.cost.total": 0.5,
        },
        span_id="00000000000000c2",
        parent="00000000000000c1",
    )
    tool = make_span(
        "lookup",
        {
            "openinference.span.kind": "TOOL",
            "tool.name": "lookup",
            "input.value": '{"q": 1}',
            "output.value": "found",
        },
        span_id="00000000000000c3",
        parent="00000000000000c1",
    )
    calls = calls_by_id([tool, llm, chain])
    chain_call, llm_call, tool_call = (calls[s.span_id] for s in (chain, llm, tool))
    assert chain_call is not None and llm_call is not None and tool_call is not None
    assert (chain_call.span_type, chain_call.operation, chain_call.is_counted) == (
        "chain",
        "invoke_workflow",
        False,
    )
    assert (llm_call.provider, llm_call.provider_raw) == ("azure.ai.openai", "azure/openai")
    assert (llm_call.session_id, llm_call.user_id, llm_call.tags) == ("s-3", "u-3", ("prod",))
    assert llm_call.cost.reported_usd == Decimal("0.5")
    assert tool_call.tool_calls == [
        {"id": None, "name": "lookup", "arguments": {"q": 1}, "result": "found"}
    ]


def identity_trace() -> list[Span]:
    root = make_span(
        "root", {"session.id": "s-root", "user.id": "u-root"}, span_id="0000000000000001"
    )
    agent = make_span(
        "agent",
        {"openinference.span.kind": "AGENT", "tag.tags": ["t1"], "user.id": "u-agent"},
        span_id="0000000000000002",
        parent="0000000000000001",
    )
    leaf = make_span(
        "chat gpt-4o",
        {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"},
        span_id="0000000000000003",
        parent="0000000000000002",
    )
    orphan = make_span(
        "chat gpt-4o",
        {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "tag.tags": ["t2"]},
        span_id="0000000000000004",
        parent="00000000000000ff",
    )
    return [root, agent, leaf, orphan]


def test_identity_propagation_within_a_trace_is_order_independent() -> None:
    spans = identity_trace()
    reference = calls_by_id(spans)
    leaf, orphan = reference["0000000000000003"], reference["0000000000000004"]
    assert leaf is not None and orphan is not None
    assert (leaf.session_id, leaf.user_id, leaf.tags) == ("s-root", "u-agent", ("t1",))
    # The orphan's parent is in another batch: the trace root present here still applies.
    assert (orphan.session_id, orphan.user_id, orphan.tags) == ("s-root", "u-root", ("t2",))
    for order in itertools.permutations(spans):
        assert calls_by_id(list(order)) == reference


def test_provider_falls_back_to_host_then_model_name() -> None:
    by_host = call_of(
        make_span(
            "chat x",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "x",
                "server.address": "api.mistral.ai",
            },
        )
    )
    by_model = call_of(
        make_span(
            "chat", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "claude-3-haiku"}
        )
    )
    assert (by_host.provider, by_model.provider) == ("mistral_ai", "anthropic")
    assert by_host.field_sources["provider"] == "server.address"


def test_spans_without_llm_attributes_are_left_alone() -> None:
    span = make_span("GET /health", {"http.route": "/health"})
    assert normalize([span]) == [span]


def test_finish_reason_vocabulary_and_flattened_families() -> None:
    pairs = {
        "end_turn": "stop",
        "MAX_TOKENS": "length",
        "SAFETY": "content_filter",
        "tool-calls": "tool_call",
        "function_call": "tool_call",
        "error": "error",
        "pause_turn": "other",
    }
    assert {raw: normalize_finish_reason(raw) for raw in pairs} == pairs
    flattened = {"p.0.a": 1, "p.2.a": 3, "p.2.b.0.c": "x", "q.0": "no"}
    assert unflatten(flattened, "p") == [{"a": 1}, {"a": 3, "b": [{"c": "x"}]}]


ODD_VALUES: tuple[Any, ...] = (
    None,
    b"\x00\xff",
    -1,
    1.5,
    float("nan"),
    True,
    "",
    "not json [",
    "[1, 2",
    '{"a": [}',
    [],
    [None, b"x", {"k": 1}],
    {"nested": {"deep": [1, {"x": None}]}},
    "[{'role': 1}]",
)


def test_malformed_values_never_raise() -> None:
    keys = sorted({key for case_span in _corpus_keys() for key in case_span} | _reference_keys())
    for offset, value in enumerate(ODD_VALUES):
        attributes = {key: ODD_VALUES[(i + offset) % len(ODD_VALUES)] for i, key in enumerate(keys)}
        attributes["gen_ai.operation.name"] = "chat"
        event = SpanEvent(START - 5, "gen_ai.choice", {"gen_ai.event.content": value})
        for scope in (
            "",
            "ai",
            "com.anthropic.sdk.python",
            "langfuse-sdk",
            "litellm",
            "pydantic-ai",
        ):
            [result] = normalize([make_span("chat x", attributes, scope=scope, events=(event,))])
            assert result.llm is not None


def _corpus_keys() -> list[set[str]]:
    from pathlib import Path

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from shared.otlp.traces import decode_export_request

    corpus = Path(__file__).parents[3] / "test-data" / "llm-corpus"
    keys = []
    for path in sorted(corpus.glob("*/*.otlp.pb")):
        if ".metrics." in path.name or ".logs." in path.name:
            continue  # other signals' exports
        request = ExportTraceServiceRequest.FromString(path.read_bytes())
        keys.extend(set(span.attributes) for span in decode_export_request(request, "p", 0).spans)
    return keys


def _reference_keys() -> set[str]:
    return {
        "langfuse.observation.usage_details",
        "langfuse.observation.cost_details",
        "langfuse.observation.completion_start_time",
        "langfuse.observation.input",
        "langfuse.observation.output",
        "langfuse.trace.metadata",
        "langfuse.trace.tags",
        "gen_ai.aggregated_usage.input_tokens",
        "pydantic_ai.all_messages",
        "request_data",
        "response_data",
        "events",
        "operation.cost",
        "tool_arguments",
        "gen_ai.tool.name",
        "gen_ai.tool.call.arguments",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
        "llm.prompts.0.prompt.text",
        "llm.input_messages.0.message.contents.0.message_content.type",
        "gen_ai.prompt.0.content",
        "gen_ai.completion.0.tool_calls.0.arguments",
        "gen_ai.prompt",
        "llm.request.functions.0.parameters",
        "ai.response.toolCalls",
        "ai.prompt.tools",
        "ai.values",
        "ai.response.msToFirstChunk",
        "metadata.user_api_key_end_user_id",
        "anthropic.usage.cache_creation.ephemeral_5m_input_tokens",
        "error.type",
    }
