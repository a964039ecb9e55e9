"""A deterministic dataset of LLM traces in two projects, written by the storage writer."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from shared.span import Cost, LLMCall, Span, TraceIdentity, Usage
from tests.storage.test_writer import write

START = datetime(2026, 11, 20, tzinfo=UTC)
BASE_NS = int(START.timestamp()) * 1_000_000_000
HOUR_NS = 3600 * 1_000_000_000
MODELS = (
    ("openai", "gpt-4o-mini", Decimal("0.15")),
    ("openai", "gpt-4o", Decimal("2.5")),
    ("anthropic", "claude-3-5-sonnet", Decimal("3")),
    ("openai", "custom-ft", None),
)
PROJECTS = {"default": 30, "other": 8}


def _span(project: str, trace: int, span: int, parent: int | None, start_ns: int, ms: int,
          service: str, environment: str, **changes: object) -> Span:  # fmt: skip
    base = Span(
        project_id=project, trace_id=f"{trace:032x}", span_id=f"{span:016x}",
        parent_span_id=None if parent is None else f"{parent:016x}", name=f"op-{span % 5}",
        kind=1, start_time_unix_nano=start_ns, end_time_unix_nano=start_ns + ms * 1_000_000,
        resource_attributes={"service.name": service, "deployment.environment.name": environment},
        received_unix_nano=start_ns,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def build(project: str, traces: int, seed: int, hours: int = 40) -> list[Span]:
    """Traces of a root span (naming session, user, tags) and one to three LLM calls each."""
    rng = random.Random(seed)
    offset = 0 if project == "default" else 1_000
    spans: list[Span] = []
    for number in range(1, traces + 1):
        trace = offset + number
        offset_ms = rng.randrange(0, hours) * 3_600_000 + rng.randrange(0, 3_600_000)
        start = BASE_NS + offset_ms * 1_000_000
        service = rng.choice(("chat-api", "worker"))
        environment = rng.choice(("prod", "staging"))
        session = f"{project}-s{rng.randrange(1, 6)}" if rng.random() < 0.8 else None
        user = f"{project}-u{rng.randrange(1, 5)}" if rng.random() < 0.9 else None
        tags = tuple(sorted(rng.sample(("beta", "eu", "mobile", "vip"), rng.randrange(0, 3))))
        identity = TraceIdentity(session_id=session, user_id=user, tags=tags)
        calls = rng.randrange(1, 4)
        root_ms = 50 + calls * 2_000
        spans.append(_span(project, trace, trace * 10, None, start, root_ms, service,
                           environment, name=f"{project} request {number}",
                           identity=identity))  # fmt: skip
        for index in range(calls):
            spans.append(_call(rng, project, trace, trace * 10 + index + 1, start, index,
                               service, environment, session, user, tags))  # fmt: skip
    return spans


def _call(rng: random.Random, project: str, trace: int, span: int, trace_start: int,
          index: int, service: str, environment: str, session: str | None, user: str | None,
          tags: tuple[str, ...]) -> Span:  # fmt: skip
    provider, model, price = rng.choice(MODELS)
    input_tokens, output_tokens = rng.randrange(10, 5_000), rng.randrange(1, 800)
    is_error = rng.random() < 0.15
    cost = None if price is None else price * (input_tokens + output_tokens) / 1_000_000
    topic = rng.choice(("weather in Paris", "stock prices", "a poem about rain"))
    error_type = rng.choice(("RateLimitError", "Timeout")) if is_error else None
    question = [{"role": "user", "parts": [{"type": "text", "content": f"Tell me {topic}"}]}]
    llm = LLMCall(
        convention="otel_genai", span_type="llm", provider=provider, request_model=model,
        response_model=model, operation=rng.choice(("chat", "chat", "embeddings")),
        usage=Usage(input_tokens=input_tokens, output_tokens=output_tokens,
                    cache_read_tokens=rng.randrange(0, 100), reasoning_tokens=rng.randrange(0, 50),
                    source="reported"),
        cost=Cost(total_usd=cost, price_source="genai-prices" if cost is not None else "unpriced"),
        time_to_first_token_seconds=rng.randrange(100, 900) / 1000 if rng.random() < 0.7 else None,
        is_streaming=True, session_id=session, user_id=user, tags=tags,
        input_messages=question,
        output_messages=[{"role": "assistant", "parts": [{"type": "text", "content": "Sure."}]}],
        is_error=is_error, error_type=error_type,
        error_message="the provider refused" if is_error else None,
    )  # fmt: skip
    start = trace_start + 20_000_000 + index * 2_000_000_000
    status = 2 if is_error else 1
    return _span(project, trace, span, trace * 10, start, rng.randrange(200, 1_900), service,
                 environment, name=f"chat {model}", llm=llm, status_code=status)  # fmt: skip


async def seed(database_url: str) -> None:
    """Write both projects' traces."""
    for project, traces in PROJECTS.items():
        await write(database_url, build(project, traces, seed=len(project)))
