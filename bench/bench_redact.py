"""Throughput of the redact processor on realistic LLM spans with 2-8 KB messages.

Run: .venv/bin/python bench/bench_redact.py [--spans 3000] [--batch 100] [--write]

Each span carries its conversation the way instrumentations do: as a JSON message attribute
(OTel GenAI `gen_ai.input.messages` / `gen_ai.output.messages`), flattened OpenInference
attributes (`llm.input_messages.N.message.content`), and the normalised `Span.llm` message
lists. About one message in ten holds personal data or a secret; the rest is prose with the
numbers, dates, versions, ids and code that make detectors work hard.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from pathlib import Path

from services.collector.processors.redact import RedactConfig, RedactStats, build
from shared.span import LLMCall, Span, SpanEvent

DOC = Path(__file__).resolve().parents[1] / "docs" / "redaction.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
WORDS = (
    "the", "model", "answer", "user", "request", "context", "window", "token", "latency", "cost",
    "retrieval", "document", "summary", "policy", "customer", "account", "order", "invoice",
    "shipment", "delivery", "refund", "support", "ticket", "weather", "city", "temperature",
    "forecast", "meeting", "schedule", "report", "quarter", "revenue", "growth", "team",
    "deployment", "service", "cluster", "database", "query", "index", "cache", "error", "retry",
    "timeout", "config",
)  # fmt: skip
FILLERS = (
    "On 2024-03-15 the order #A-2024-118734 shipped; total was $1,234.56 (tax 8.25%).",
    "Upgrade from version 1.2.3 to 2.0.0-beta.4 and restart; see build 20240115.",
    "The trace id 4bf92f3577b34da6a3ce929d0e0e4736 covers span 00f067aa0ba902b7.",
    "Use `for i in range(10): print(i * 3.14)` and `std::vector<int> v(42);` in the example.",
    "Request 550e8400-e29b-41d4-a716-446655440000 took 1534 ms at 10:30:45 UTC.",
    "Meeting moved to 15/01/2025 at 14:00; room 3.14, floor 2, capacity 12 people.",
    "The sha256 was 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.",
    "In Q3 revenue grew 12.5% to 4,200,000 EUR while costs fell by 300 000 EUR.",
)
PII = (
    "Please reach me at jane.doe@example.org or +44 20 7946 0958 after 5pm.",
    "My card is 4111 1111 1111 1111, expiry 12/27, and my SSN is 123-45-6789.",
    "Wire it to DE89 3704 0044 0532 0130 00 and confirm from 203.0.113.42.",
    "Here is my key sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90 for the test.",
    "Connect with postgres://admin:S3cretPassw0rd@db.internal:5432/app please.",
    "Authorization: Bearer ya29.a0AfH6SMBx1234567890abcdefGHIJKLmnopQRST",
)


def make_text(rng: random.Random, size: int, with_pii: bool) -> str:
    """Prose of about `size` characters, with one personal-data sentence if asked."""
    parts: list[str] = []
    length = 0
    while length < size:
        if rng.random() < 0.15:
            sentence = rng.choice(FILLERS)
        else:
            words = rng.choices(WORDS, k=rng.randint(8, 20))
            sentence = " ".join(words).capitalize() + "."
        parts.append(sentence)
        length += len(sentence) + 1
    if with_pii:
        parts.insert(rng.randrange(len(parts)), rng.choice(PII))
    return " ".join(parts)


def make_span(rng: random.Random, index: int) -> Span:
    """One LLM span with a system prompt, a user turn of 2-8 KB and an answer."""
    system = make_text(rng, 400, False)
    user = make_text(rng, rng.randint(2000, 8000), rng.random() < 0.1)
    answer = make_text(rng, rng.randint(300, 1500), rng.random() < 0.05)
    inputs = [
        {"role": "system", "parts": [{"type": "text", "content": system}]},
        {"role": "user", "parts": [{"type": "text", "content": user}]},
    ]
    outputs = [{"role": "assistant", "parts": [{"type": "text", "content": answer}]}]
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 1200 + index % 700,
        "gen_ai.usage.output_tokens": 200 + index % 300,
        "gen_ai.input.messages": json.dumps(inputs, separators=(",", ":")),
        "gen_ai.output.messages": json.dumps(outputs, separators=(",", ":")),
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": system,
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.content": user,
        "llm.output_messages.0.message.content": answer,
        "session.id": f"sess-{index // 10:06d}",
        "user.id": f"user-{index % 97}",
    }
    llm = LLMCall(
        convention="otel-genai",
        span_type="llm",
        input_messages=[{"role": m["role"], "content": m["parts"][0]["content"]} for m in inputs],
        output_messages=[{"role": "assistant", "content": answer}],
    )
    return Span(
        project_id=f"project-{index % 3}",
        trace_id=f"{rng.getrandbits(128):032x}",
        span_id=f"{rng.getrandbits(64):016x}",
        parent_span_id=None,
        name="chat gpt-4o-mini",
        kind=3,
        start_time_unix_nano=1_700_000_000_000_000_000 + index,
        end_time_unix_nano=1_700_000_001_000_000_000 + index,
        attributes=attributes,
        events=(SpanEvent(0, "gen_ai.choice", {"index": 0, "finish_reason": "stop"}),),
        resource_attributes={"service.name": "bench", "host.name": "bench-host-1"},
        llm=llm,
    )


def make_small_span(rng: random.Random, index: int) -> Span:
    """A span of the HTTP/database kind: a dozen short attributes, no messages."""
    attributes = {
        "http.request.method": "POST",
        "url.full": f"https://api.example.com/v1/orders/{index}?expand=items",
        "http.response.status_code": 200,
        "server.address": "api.example.com",
        "db.system": "postgresql",
        "db.query.text": "SELECT id, total FROM orders WHERE customer_id = $1 LIMIT 25",
        "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.6099.109",
        "app.order.id": f"ORD-2024-{index:06d}",
        "app.region": "eu-west-1",
        "app.retry": index % 3,
    }
    return Span(
        project_id=f"project-{index % 3}",
        trace_id=f"{rng.getrandbits(128):032x}",
        span_id=f"{rng.getrandbits(64):016x}",
        parent_span_id=None,
        name="POST /v1/orders",
        kind=2,
        start_time_unix_nano=1_700_000_000_000_000_000 + index,
        end_time_unix_nano=1_700_000_001_000_000_000 + index,
        attributes=attributes,
        resource_attributes={"service.name": "bench", "host.name": "bench-host-1"},
    )


def measure(spans: list[Span], batch: int, repeat: int) -> tuple[float, float, RedactStats]:
    """Best and median spans per second of CPU time over `repeat` runs of the whole list."""
    batches = [spans[i : i + batch] for i in range(0, len(spans), batch)]
    stats = RedactStats()
    redact = build(RedactConfig(), stats)
    rates = []
    for _ in range(repeat):
        started = time.process_time()  # CPU time: other work on the machine does not count
        for part in batches:
            redact(part)
        rates.append(len(spans) / (time.process_time() - started))
    return max(rates), statistics.median(rates), stats


def main() -> None:
    """Build the processor with defaults, run it over both workloads, print spans/s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--write", action="store_true", help=f"update {DOC.name}")
    args = parser.parse_args()
    rng = random.Random(7)
    llm_spans = [make_span(rng, index) for index in range(args.spans)]
    small_spans = [make_small_span(rng, index) for index in range(args.spans)]
    message_bytes = sum(
        len(span.attributes["gen_ai.input.messages"])
        + len(span.attributes["gen_ai.output.messages"])
        for span in llm_spans
    )
    kilobytes = message_bytes / len(llm_spans) / 1024
    best, median, stats = measure(llm_spans, args.batch, args.repeat)
    small_best, small_median, _ = measure(small_spans, args.batch, args.repeat)
    lines = [
        f"- LLM spans ({kilobytes:.1f} KB of messages each, {args.spans} spans in batches of "
        f"{args.batch}): **{best:,.0f} spans/s** (median {median:,.0f}), "
        f"{best * message_bytes / len(llm_spans) / 1e6:.1f} MB/s of message text, one core",
        f"- small spans (HTTP/database attributes, no messages): **{small_best:,.0f} spans/s** "
        f"(median {small_median:,.0f})",
        f"- detections in the LLM runs: {dict(sorted(stats.snapshot().detections.items()))}",
    ]
    print("\n".join(lines))
    if args.write:
        pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
        text = pattern.sub(lambda _: START + "\n" + "\n".join(lines) + "\n" + END, DOC.read_text())
        DOC.write_text(text)
        print(f"updated {DOC}")


if __name__ == "__main__":
    main()
