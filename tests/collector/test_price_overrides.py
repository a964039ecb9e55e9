"""Model prices stored per project in PostgreSQL reach the price step; a change is noticed."""

from __future__ import annotations

from decimal import Decimal

import psycopg

from services.collector.price_overrides import PriceOverrideSource
from services.collector.processors.registry import ProcessorContext, build_registry
from shared.db import open_pool
from shared.span import LLMCall, Span, Usage


def call(project_id: str, model: str) -> Span:
    return Span(
        project_id=project_id, trace_id="1" * 32, span_id="2" * 16, parent_span_id=None,
        name="chat", kind=3, start_time_unix_nano=1_790_000_000_000_000_000,
        end_time_unix_nano=1_790_000_001_000_000_000,
        llm=LLMCall(convention="otel_genai", span_type="llm", provider="openai",
                    operation="chat", request_model=model,
                    usage=Usage(input_tokens=1000, output_tokens=500, source="reported")),
    )  # fmt: skip


async def test_stored_overrides_price_their_projects_calls(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO projects (project_id, name) VALUES ('acme', 'Acme')")
        conn.execute(
            "INSERT INTO model_price_overrides (project_id, model, match,"
            " input_usd_per_million_tokens, output_usd_per_million_tokens, version)"
            " VALUES ('acme', 'acme-ft-', 'prefix', 2, 8, 'contract-2026')"
        )
    pool = await open_pool(database_url, 1, 2)
    try:
        source = PriceOverrideSource(pool, refresh_seconds=30)
        assert await source.refresh() is True
        assert await source.refresh() is False, "unchanged rows rebuild nothing"
        price = build_registry(ProcessorContext(price_overrides=lambda: source.current))["price"]
        (acme,) = price({})([call("acme", "acme-ft-7b")])
        assert acme.llm is not None
        assert acme.llm.cost.price_source == "project-override"
        assert acme.llm.cost.price_version == "contract-2026"
        assert acme.llm.cost.total_usd == Decimal("0.006")  # 1000 x $2/M + 500 x $8/M
        (other,) = price({})([call("default", "acme-ft-7b")])
        assert other.llm is not None and other.llm.cost.price_source == "unpriced"
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("UPDATE model_price_overrides SET output_usd_per_million_tokens = 4")
        assert await source.refresh() is True
        (repriced,) = build_registry(ProcessorContext(price_overrides=lambda: source.current))[
            "price"
        ]({})([call("acme", "acme-ft-7b")])
        assert repriced.llm is not None and repriced.llm.cost.total_usd == Decimal("0.004")
    finally:
        await pool.close()
