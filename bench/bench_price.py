"""Throughput of the price processor on a realistic mix of calls: `python bench/bench_price.py`."""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence

from services.collector.processors.price import PriceConfig, build
from shared.span import LLMCall, Span, Usage

# (provider, model, has cache writes): what a busy project's calls look like.
MODELS = (
    ("openai", "gpt-4o-mini-2024-07-18", False),
    ("openai", "gpt-4o-2024-08-06", False),
    ("openai", "o3-2025-04-16", False),
    ("anthropic", "claude-sonnet-4-5-20250929", True),
    ("anthropic", "claude-haiku-4-5-20251001", True),
    ("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", True),
    ("gcp.gemini", "gemini-2.5-flash", False),
    ("azure.ai.openai", "gpt-4.1-mini", False),
    ("openai", "ft:gpt-4o-mini-2024-07-18:acme::b7x", False),  # project override
    ("ollama", "llama3.1:8b", False),  # unpriced
)
OVERRIDES = {
    "overrides": {
        "proj-0": [
            {
                "model": "ft:gpt-4o-mini",
                "match": "prefix",
                "input_usd_per_million_tokens": "0.3",
                "output_usd_per_million_tokens": "1.2",
                "version": "bench",
            }
        ]
    }
}
START_2024 = 1_704_067_200_000_000_000
TWO_YEARS_NS = 2 * 365 * 86_400 * 1_000_000_000


def make_spans(count: int, seed: int = 7) -> list[Span]:
    """`count` counted calls with varied usage and start times spread over two years."""
    rng = random.Random(seed)
    spans = []
    for index in range(count):
        provider, model, writes = MODELS[index % len(MODELS)]
        prompt = rng.randint(50, 20_000)
        cached = rng.randint(0, prompt // 2)
        written = rng.randint(0, (prompt - cached) // 2) if writes else None
        output = rng.randint(1, 2_000)
        usage = Usage(
            input_tokens=prompt,
            output_tokens=output,
            cache_read_tokens=cached,
            cache_write_tokens=written,
            reasoning_tokens=rng.randint(0, output),
            source="reported",
        )
        start = START_2024 + rng.randrange(TWO_YEARS_NS)
        llm = LLMCall(
            convention="otel_genai",
            span_type="llm",
            provider=provider,
            request_model=model,
            response_model=model,
            usage=usage,
        )
        spans.append(
            Span(
                project_id=f"proj-{index % 3}",
                trace_id=f"{index:032x}",
                span_id=f"{index:016x}",
                parent_span_id=None,
                name="chat",
                kind=3,
                start_time_unix_nano=start,
                end_time_unix_nano=start + 1_000_000_000,
                llm=llm,
            )
        )
    return spans


def measure(
    process: Callable[[Sequence[Span]], list[Span]], spans: list[Span], batch: int
) -> float:
    """Spans per second through `process` in batches of `batch`."""
    started = time.perf_counter()
    for offset in range(0, len(spans), batch):
        process(spans[offset : offset + batch])
    return len(spans) / (time.perf_counter() - started)


def main() -> None:
    """Print cold (fresh caches) and warm throughput."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=512)
    args = parser.parse_args()
    spans = make_spans(args.spans)
    price = build(PriceConfig.from_mapping(OVERRIDES))
    cold = measure(price, spans, args.batch)
    warm = measure(price, spans, args.batch)
    priced = sum(1 for s in price(spans) if s.llm and s.llm.cost.total_usd is not None)
    print(f"spans={len(spans)} batch={args.batch} priced={priced}")
    print(f"cold: {cold:,.0f} spans/s   warm: {warm:,.0f} spans/s ({1e6 / warm:.1f} us/span)")


if __name__ == "__main__":
    main()
