"""Throughput of estimate_tokens on calls without usage: `python bench/bench_estimate_tokens.py`."""

from __future__ import annotations

import argparse
import random
import time
from pydoc_data.topics import topics

from services.collector.processors.estimate_tokens import EstimateTokensConfig, build
from shared.span import LLMCall, Span

MODELS = (("openai", "gpt-4o-mini"), ("openai", "gpt-4"), ("anthropic", "claude-sonnet-4-5"))


def make_spans(count: int, chars: int, seed: int = 7) -> list[Span]:
    """Counted calls with a system + user message and an answer, ~`chars` of text in all."""
    rng = random.Random(seed)
    corpus = list(topics.values())
    spans = []
    for index in range(count):
        text = rng.choice(corpus)
        start = rng.randrange(max(1, len(text) - chars))
        body = text[start : start + chars]
        provider, model = MODELS[index % len(MODELS)]
        llm = LLMCall(
            convention="otel_genai",
            span_type="llm",
            provider=provider,
            request_model=model,
            input_messages=[
                {"role": "system", "parts": [{"type": "text", "content": "Be terse."}]},
                {"role": "user", "parts": [{"type": "text", "content": body[: chars // 2]}]},
            ],
            output_messages=[
                {"role": "assistant", "parts": [{"type": "text", "content": body[chars // 2 :]}]}
            ],
        )
        spans.append(
            Span(
                project_id="proj-a",
                trace_id=f"{index:032x}",
                span_id=f"{index:016x}",
                parent_span_id=None,
                name="chat",
                kind=3,
                start_time_unix_nano=1,
                end_time_unix_nano=2,
                llm=llm,
            )
        )
    return spans


def main() -> None:
    """Print spans/s and tokens/s after one warm-up pass."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=5_000)
    parser.add_argument("--chars", type=int, default=4_000)
    args = parser.parse_args()
    spans = make_spans(args.spans, args.chars)
    estimate = build(EstimateTokensConfig())
    estimate(spans[:500])
    started = time.perf_counter()
    result = estimate(spans)
    seconds = time.perf_counter() - started
    tokens = sum(
        (s.llm.usage.input_tokens or 0) + (s.llm.usage.output_tokens or 0) for s in result if s.llm
    )
    print(f"spans={len(spans)} chars/call={args.chars} tokens={tokens}")
    print(f"{len(spans) / seconds:,.0f} spans/s, {tokens / seconds / 1e6:.2f} M tokens/s")


if __name__ == "__main__":
    main()
