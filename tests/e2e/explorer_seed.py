"""Telemetry the explorer's browser test looks at, as OTLP export requests with known ids: a
session of three turns (tool calls, an estimated call, a failed call, a prompt carrying HTML and
an e-mail address), a trace of 1,000 spans with 100 KB prompts, and varied background traffic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ScopeSpans, Span, Status

from deploy.devutils.workload import SEED_SHAPE, TraceFactory, kv

SESSION_ID = "explorer-session-1"
USER_ID = "explorer-user"
SESSION_MODEL = "gpt-4.1-mini"
SESSION_TRACE_IDS = tuple(f"e0000000000000000000000000000{n:03d}" for n in (1, 2, 3))
BACKGROUND_TRACES = 40
BIG_TRACE_ID = "b1000000000000000000000000000001"
BIG_TRACE_SPANS = 1000
BIG_MESSAGE_CHARS = 100_000
BIG_MESSAGE_SPANS = 20
SCRIPT_PROBE = "<script>alert(1)</script>"
IMG_PROBE = "<img src=x onerror=alert(2)>"
NAME_PROBE = "turn 2 <img src=x onerror=alert(3)>"
EMAIL = "jane.doe@example.com"
MS = 1_000_000


@dataclass(frozen=True, slots=True)
class Seed:
    """What was sent, for the test to check against."""

    requests: list[ExportTraceServiceRequest]
    background_traces: int


def _span(
    scope: ScopeSpans, trace_id: str, span_id: int, parent: int | None, name: str,
    start_ns: int, duration_ms: float, kind: int = Span.SPAN_KIND_INTERNAL,
) -> Span:  # fmt: skip
    span = scope.spans.add()
    span.trace_id, span.span_id = bytes.fromhex(trace_id), span_id.to_bytes(8, "big")
    if parent is not None:
        span.parent_span_id = parent.to_bytes(8, "big")
    span.name, span.kind = name, kind
    span.start_time_unix_nano = start_ns
    span.end_time_unix_nano = start_ns + int(duration_ms * MS)
    return span


def _chat(
    span: Span, model: str, messages: list[dict[str, object]], output: str | None,
    usage: tuple[int, int] | None, ttft_seconds: float | None = None,
) -> None:  # fmt: skip
    span.kind = Span.SPAN_KIND_CLIENT
    attributes = [
        kv("gen_ai.operation.name", "chat"), kv("gen_ai.provider.name", "openai"),
        kv("gen_ai.request.model", model),
        kv("gen_ai.input.messages", json.dumps(messages)),
    ]  # fmt: skip
    if output is not None:
        attributes += [
            kv("gen_ai.response.model", model),
            kv("gen_ai.response.finish_reasons", ["stop"]),
            kv("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [
                {"type": "text", "content": output}], "finish_reason": "stop"}])),
        ]  # fmt: skip
    if usage is not None:
        attributes += [
            kv("gen_ai.usage.input_tokens", usage[0]),
            kv("gen_ai.usage.output_tokens", usage[1]),
        ]
    if ttft_seconds is not None:
        attributes += [
            kv("gen_ai.request.stream", True),
            kv("gen_ai.response.time_to_first_chunk", ttft_seconds),
        ]
    span.attributes.extend(attributes)


def _text(role: str, content: str) -> dict[str, object]:
    return {"role": role, "parts": [{"type": "text", "content": content}]}


def _request(service: str) -> tuple[ExportTraceServiceRequest, ScopeSpans]:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(
        [kv("service.name", service), kv("deployment.environment.name", "production")]
    )
    scope = resource_spans.scope_spans.add()
    scope.scope.name = "tests.e2e.explorer"
    return request, scope


def session_requests(start_ns: int) -> Iterator[ExportTraceServiceRequest]:
    """The three turns of SESSION_ID, a minute apart."""
    system = _text("system", "You are the support assistant of an online shop.")
    for turn, trace_id in enumerate(SESSION_TRACE_IDS, start=1):
        request, scope = _request("support-bot")
        at = start_ns + (turn - 1) * 60_000 * MS
        name = NAME_PROBE if turn == 2 else f"turn {turn}"
        root = _span(scope, trace_id, 1, None, name, at, 2400, Span.SPAN_KIND_SERVER)
        root.attributes.extend([kv("session.id", SESSION_ID), kv("user.id", USER_ID)])
        if turn == 1:
            ask = _text("user", "Where is my order 1042?")
            call = _span(scope, trace_id, 2, 1, f"chat {SESSION_MODEL}", at + 5 * MS, 900)
            _chat(call, SESSION_MODEL, [system, ask], "Let me look that up.", (310, 24), 0.21)
            tool = _span(scope, trace_id, 3, 1, "execute_tool lookup_order", at + 910 * MS, 150)
            tool.attributes.extend([kv("gen_ai.operation.name", "execute_tool"),
                                    kv("gen_ai.tool.name", "lookup_order")])  # fmt: skip
            history = [system, ask, {"role": "assistant", "parts": [{
                "type": "tool_call", "id": "call_1", "name": "lookup_order",
                "arguments": {"order_id": 1042}}]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1",
                 "response": {"status": "shipped", "eta": "tomorrow"}}]}]  # fmt: skip
            answer = _span(scope, trace_id, 4, 1, f"chat {SESSION_MODEL}", at + 1100 * MS, 1200)
            _chat(answer, SESSION_MODEL, history, "Your order 1042 ships tomorrow.", (420, 31))
        elif turn == 2:
            prompt = f"Summarise this page: {SCRIPT_PROBE} {IMG_PROBE} and mail it to {EMAIL}"
            call = _span(scope, trace_id, 2, 1, f"chat {SESSION_MODEL}", at + 5 * MS, 1500)
            # No usage reported: the collector estimates it from the content.
            _chat(call, SESSION_MODEL, [system, _text("user", prompt)],
                  f"I cannot send mail. The page contained {SCRIPT_PROBE}.", None)  # fmt: skip
        else:
            ask = _text("user", "Thanks! Can you also cancel order 1043?")
            failed = _span(scope, trace_id, 2, 1, f"chat {SESSION_MODEL}", at + 5 * MS, 80)
            _chat(failed, SESSION_MODEL, [system, ask], None, None)
            failed.status.code = Status.STATUS_CODE_ERROR
            failed.status.message = "Rate limit reached for requests"
            failed.attributes.append(kv("error.type", "429"))
            retry = _span(scope, trace_id, 3, 1, f"chat {SESSION_MODEL}", at + 600 * MS, 1100)
            _chat(retry, SESSION_MODEL, [system, ask], "Order 1043 is cancelled.", (290, 12))
        yield request


def big_trace_requests(
    start_ns: int, spans_per_request: int = 250
) -> Iterator[ExportTraceServiceRequest]:
    """BIG_TRACE_ID: a root, 9 steps, 110 calls or tool runs under each (1,000 spans); the
    first BIG_MESSAGE_SPANS calls carry a BIG_MESSAGE_CHARS prompt."""
    request, scope = _request("batch-runner")
    _span(scope, BIG_TRACE_ID, 1, None, "batch run", start_ns, 9 * 110 * 12 + 50,
          Span.SPAN_KIND_SERVER)  # fmt: skip
    span_id, big_left, sent = 2, BIG_MESSAGE_SPANS, 1
    filler = ("lorem ipsum dolor sit amet " * (BIG_MESSAGE_CHARS // 27 + 1))[:BIG_MESSAGE_CHARS]
    for step in range(9):
        step_id, step_start = span_id, start_ns + step * 110 * 12 * MS
        _span(scope, BIG_TRACE_ID, step_id, 1, f"step {step}", step_start, 110 * 12)
        span_id += 1
        for index in range(110):
            if sent % spans_per_request == 0:
                yield request
                request, scope = _request("batch-runner")
            at = step_start + index * 12 * MS
            if index % 2 == 0:
                span = _span(scope, BIG_TRACE_ID, span_id, step_id, "chat gpt-4o-mini", at, 11)
                prompt = filler if big_left > 0 else f"item {step}.{index}"
                big_left -= 1
                _chat(span, "gpt-4o-mini", [_text("user", prompt)], f"done {step}.{index}",
                      (len(prompt) // 4, 3))  # fmt: skip
            else:
                span = _span(scope, BIG_TRACE_ID, span_id, step_id, "execute_tool store", at, 4)
                span.attributes.append(kv("gen_ai.operation.name", "execute_tool"))
            span_id += 1
            sent += 1
    assert span_id - 1 == BIG_TRACE_SPANS
    yield request


def build_seed(now_ns: int, background_traces: int = BACKGROUND_TRACES) -> Seed:
    """Every request of the seed: background traffic over the last two hours, the session
    (starting 30 minutes ago) and the big trace (20 minutes ago)."""
    requests = list(
        TraceFactory(5, SEED_SHAPE).spread_requests(
            background_traces, now_ns - 7200 * 10**9, now_ns - 3600 * 10**9
        )
    )
    requests += session_requests(now_ns - 1800 * 10**9)
    requests += big_trace_requests(now_ns - 1200 * 10**9)
    return Seed(requests, background_traces)
