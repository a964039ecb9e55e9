"""Realistic LLM-shaped traces as OTLP export requests: agent runs with LLM calls and tools."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

SERVICES = ("support-bot", "search-api", "doc-summarizer", "code-assistant")
ENVIRONMENTS = ("production", "staging")
# (provider, request model, response model, streaming share)
MODELS = (
    ("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 0.6),
    ("openai", "gpt-4o", "gpt-4o-2024-08-06", 0.5),
    ("openai", "o3-mini", "o3-mini-2025-01-31", 0.2),
    ("anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", 0.5),
    ("anthropic", "claude-haiku-4-5", "claude-haiku-4-5-20251001", 0.5),
    ("gcp.gemini", "gemini-2.0-flash", "gemini-2.0-flash", 0.4),
)
# A self-hosted model no price list knows: its calls are stored unpriced.
UNPRICED_MODELS = (("vllm", "llama-3.1-8b-instruct", "meta-llama/Llama-3.1-8B-Instruct", 0.7),)
EMBEDDING_MODEL = ("openai", "text-embedding-3-small")
# (error.type, status message, share): rate limits dominate, as they do in practice.
RATE_LIMIT = ("429", "Rate limit reached for requests", 1.0)
VARIED_ERRORS = (
    RATE_LIMIT,
    ("500", "The server had an error while processing your request", 0.15),
    ("timeout", "Request timed out", 0.15),
    ("context_length_exceeded", "This model's maximum context length is 128000 tokens", 0.1),
)
# Relative traffic per UTC hour of day: quiet nights, a working-day peak.
HOURLY_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 10, 9, 10, 10, 9, 8, 7, 5, 4, 3, 2, 2, 1)
HOUR_NS = 3600 * 10**9
WORDS = [
    "invoice",
    "refund",
    "account",
    "password",
    "shipping",
    "order",
    "delayed",
    "customer",
    "warranty",
    "battery",
    "screen",
    "replace",
    "upgrade",
    "policy",
    "summary",
    "contract",
    "clause",
    "liability",
    "python",
    "function",
    "error",
    "stack",
    "trace",
    "deploy",
    "latency",
    "cache",
    "token",
    "budget",
    "model",
    "prompt",
    "answer",
    "question",
    "weather",
    "paris",
]


@dataclass(frozen=True, slots=True)
class WorkloadShape:
    """What the generated traffic looks like."""

    min_message_bytes: int = 500
    max_message_bytes: int = 8000
    max_llm_calls: int = 3
    error_rate: float = 0.03
    tool_rate: float = 0.4
    users: int = 200
    turns_per_session: int = 4
    # The defaults keep the traffic the benchmarks were measured on; the seeder widens it.
    errors: tuple[tuple[str, str, float], ...] = (RATE_LIMIT,)
    embedding_rate: float = 0.0
    extra_models: tuple[tuple[str, str, str, float], ...] = ()


# The mix `make seed` sends: every kind of call, error and model the dashboards show.
SEED_SHAPE = WorkloadShape(
    max_message_bytes=4000,
    error_rate=0.05,
    users=120,
    turns_per_session=125,  # ~8 sessions a user, several turns each over the seeded days
    errors=VARIED_ERRORS,
    embedding_rate=0.15,
    extra_models=UNPRICED_MODELS,
)


def kv(key: str, value: str | int | float | bool | list[str]) -> KeyValue:
    """An OTLP attribute from a plain value."""
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    if isinstance(value, list):
        items = [AnyValue(string_value=item) for item in value]
        return KeyValue(key=key, value=AnyValue(array_value=ArrayValue(values=items)))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def text_of(rng: random.Random, size: int) -> str:
    """About `size` characters of message-like words drawn by `rng`."""
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


class TraceFactory:
    """Builds traces from a seeded random source: the same seed, the same traffic."""

    def __init__(self, seed: int = 7, shape: WorkloadShape | None = None) -> None:
        self._random = random.Random(seed)
        self.shape = shape or WorkloadShape()
        self._models = MODELS + self.shape.extra_models

    def _text(self, size: int) -> str:
        return text_of(self._random, size)

    def _id(self, size: int) -> bytes:
        return self._random.getrandbits(size * 8).to_bytes(size, "big") or b"\x01"

    def trace(self, start_ns: int) -> ResourceSpans:
        """One agent run: a root span, 1..N LLM calls, maybe a tool call, in one resource."""
        rnd, shape = self._random, self.shape
        resource_spans = ResourceSpans()
        resource_spans.resource.attributes.extend(
            [kv("service.name", rnd.choice(SERVICES)),
             kv("deployment.environment.name", rnd.choices(ENVIRONMENTS, (9, 1))[0])]
        )  # fmt: skip
        scope = resource_spans.scope_spans.add()
        scope.scope.name = "opentelemetry.instrumentation.openai_v2"
        trace_id = self._id(16)
        root = scope.spans.add()
        root.trace_id, root.span_id, root.kind = trace_id, self._id(8), Span.SPAN_KIND_SERVER
        root.name = "agent run"
        user = rnd.randrange(shape.users)
        session = f"sess-{user}-{rnd.randrange(1000) // shape.turns_per_session}"
        root.attributes.extend([kv("session.id", session), kv("user.id", f"user-{user}")])
        cursor = start_ns + rnd.randrange(1, 5) * 1_000_000
        if shape.embedding_rate and rnd.random() < shape.embedding_rate:
            cursor = self._embedding(scope.spans.add(), trace_id, root.span_id, cursor)
        for _ in range(rnd.randint(1, shape.max_llm_calls)):
            cursor = self._llm_call(scope.spans.add(), trace_id, root.span_id, cursor)
            if rnd.random() < shape.tool_rate:
                cursor = self._tool(scope.spans.add(), trace_id, root.span_id, cursor)
        root.start_time_unix_nano, root.end_time_unix_nano = start_ns, cursor + 1_000_000
        return resource_spans

    def _llm_call(self, span: Span, trace_id: bytes, parent: bytes, start_ns: int) -> int:
        rnd, shape = self._random, self.shape
        provider, model, response_model, stream_share = rnd.choice(self._models)
        is_stream = rnd.random() < stream_share
        is_error = rnd.random() < shape.error_rate
        span.trace_id, span.span_id, span.parent_span_id = trace_id, self._id(8), parent
        span.kind, span.name = Span.SPAN_KIND_CLIENT, f"chat {model}"
        prompt = self._text(rnd.randint(shape.min_message_bytes, shape.max_message_bytes))
        duration_ms = rnd.lognormvariate(6.8, 0.7)  # median ~900 ms, long tail
        attributes = [
            kv("gen_ai.operation.name", "chat"), kv("gen_ai.provider.name", provider),
            kv("gen_ai.request.model", model), kv("gen_ai.request.stream", is_stream),
            kv("gen_ai.input.messages", json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": prompt}]}])),
        ]  # fmt: skip
        if is_error:
            error_type, message = self._error()
            span.status.code = Status.STATUS_CODE_ERROR
            span.status.message = message
            attributes.append(kv("error.type", error_type))
            duration_ms /= 10
        else:
            input_tokens = len(prompt) // 4 + rnd.randrange(20, 200)
            cached = rnd.choice((0, 0, input_tokens // 2))
            output = self._text(rnd.randint(100, 1500))
            attributes += [
                kv("gen_ai.response.model", response_model),
                kv("gen_ai.response.id", f"resp-{self._id(6).hex()}"),
                kv("gen_ai.usage.input_tokens", input_tokens),
                kv("gen_ai.usage.output_tokens", len(output) // 4 + 1),
                kv("gen_ai.usage.cache_read.input_tokens", cached),
                kv("gen_ai.response.finish_reasons", ["stop"]),
                kv("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [
                    {"type": "text", "content": output}], "finish_reason": "stop"}])),
            ]  # fmt: skip
            if model.startswith("o3"):
                attributes.append(kv("gen_ai.usage.reasoning.output_tokens", rnd.randrange(50)))
            if is_stream:
                ttft = min(duration_ms, rnd.lognormvariate(5.5, 0.5)) / 1000
                attributes.append(kv("gen_ai.response.time_to_first_chunk", ttft))
        span.attributes.extend(attributes)
        end_ns = start_ns + int(duration_ms * 1_000_000)
        span.start_time_unix_nano, span.end_time_unix_nano = start_ns, end_ns
        return end_ns

    def _error(self) -> tuple[str, str]:
        errors = self.shape.errors
        if len(errors) == 1:  # no draw: the default traffic stays what it was
            return errors[0][0], errors[0][1]
        error_type, message, _ = self._random.choices(errors, [e[2] for e in errors])[0]
        return error_type, message

    def _embedding(self, span: Span, trace_id: bytes, parent: bytes, start_ns: int) -> int:
        rnd = self._random
        provider, model = EMBEDDING_MODEL
        span.trace_id, span.span_id, span.parent_span_id = trace_id, self._id(8), parent
        span.kind, span.name = Span.SPAN_KIND_CLIENT, f"embeddings {model}"
        span.attributes.extend([
            kv("gen_ai.operation.name", "embeddings"), kv("gen_ai.provider.name", provider),
            kv("gen_ai.request.model", model), kv("gen_ai.response.model", model),
            kv("gen_ai.usage.input_tokens", rnd.randrange(8, 600)),
        ])  # fmt: skip
        end_ns = start_ns + int(rnd.lognormvariate(4.5, 0.4) * 1_000_000)  # ~90 ms
        span.start_time_unix_nano, span.end_time_unix_nano = start_ns, end_ns
        return end_ns

    def _tool(self, span: Span, trace_id: bytes, parent: bytes, start_ns: int) -> int:
        rnd = self._random
        tool = rnd.choice(("search_orders", "get_weather", "lookup_policy"))
        span.trace_id, span.span_id, span.parent_span_id = trace_id, self._id(8), parent
        span.kind, span.name = Span.SPAN_KIND_INTERNAL, f"execute_tool {tool}"
        span.attributes.extend([
            kv("gen_ai.operation.name", "execute_tool"), kv("gen_ai.tool.name", tool),
            kv("gen_ai.tool.call.id", f"call_{self._id(4).hex()}"),
        ])  # fmt: skip
        end_ns = start_ns + rnd.randrange(5, 300) * 1_000_000
        span.start_time_unix_nano, span.end_time_unix_nano = start_ns, end_ns
        return end_ns

    def requests(
        self, traces: int, start_ns: int, spacing_ns: int, max_spans: int = 512
    ) -> Iterator[ExportTraceServiceRequest]:
        """`traces` traces starting `spacing_ns` apart, packed into requests of <= max_spans
        spans, as the SDK's BatchSpanProcessor sends them."""
        starts = (start_ns + index * spacing_ns for index in range(traces))
        yield from _pack((self.trace(at) for at in starts), max_spans)

    def spread_requests(
        self, traces: int, start_ns: int, end_ns: int, max_spans: int = 512
    ) -> Iterator[ExportTraceServiceRequest]:
        """`traces` traces starting between start_ns and end_ns, busier in working hours, in
        time order, packed into requests of <= max_spans spans."""
        starts = self._start_times(traces, start_ns, end_ns)
        yield from _pack((self.trace(at) for at in starts), max_spans)

    def _start_times(self, count: int, start_ns: int, end_ns: int) -> list[int]:
        rnd = self._random
        first_hour, last_hour = start_ns // HOUR_NS, max(start_ns, end_ns - 1) // HOUR_NS
        hours = range(first_hour, last_hour + 1)
        weights = [HOURLY_WEIGHTS[hour % 24] for hour in hours]
        starts = []
        for hour in rnd.choices(hours, weights, k=count):
            low, high = max(start_ns, hour * HOUR_NS), min(end_ns, (hour + 1) * HOUR_NS)
            starts.append(rnd.randrange(low, max(low + 1, high)))
        return sorted(starts)


def _pack(traces: Iterable[ResourceSpans], max_spans: int) -> Iterator[ExportTraceServiceRequest]:
    """Pack traces into export requests of at most `max_spans` spans (one trace never split)."""
    request = ExportTraceServiceRequest()
    spans = 0
    for resource_spans in traces:
        count = len(resource_spans.scope_spans[0].spans)
        if spans and spans + count > max_spans:
            yield request
            request, spans = ExportTraceServiceRequest(), 0
        request.resource_spans.append(resource_spans)
        spans += count
    if spans:
        yield request
