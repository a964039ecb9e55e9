"""Every real instrumentation export of the corpus, sent to the running stack over OTLP/HTTP:
the stored LLM records (read back through the API) match the ground truth, each call counted once
and costed exactly as genai-prices computes it."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from genai_prices import Usage as GenaiUsage
from genai_prices import calc_price
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from shared.span import Cost, LLMCall, Usage
from tests.collector.processors.test_normalize import CASES, check_call
from tests.e2e.otlp_load import post
from tests.e2e.services import Stack
from tests.e2e.test_sdk_roundtrip import wait_for_trace

MICRO = Decimal("0.000001")


def case_trace_spans(case: Path) -> dict[str, int]:
    """Trace id -> span count of a corpus case's export."""
    pb = case.with_name(case.name.replace(".expected.json", ".otlp.pb"))
    request = ExportTraceServiceRequest.FromString(pb.read_bytes())
    counts: dict[str, int] = {}
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                counts[span.trace_id.hex()] = counts.get(span.trace_id.hex(), 0) + 1
    return counts


def flatten(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for node in nodes:
        out.append(node)
        out.extend(flatten(node["children"]))
    return out


def call_from_api(llm: dict[str, Any]) -> LLMCall:
    """The API's `llm` object back into the canonical dataclass, to compare with ground truth."""
    usage = {k: v for k, v in llm["usage"].items() if k != "source"}
    error = llm["error"] or {}
    return LLMCall(
        convention=llm["convention"], span_type=llm["span_type"], is_counted=llm["is_counted"],
        provider=llm["provider"], operation=llm["operation"],
        request_model=llm["request_model"], response_model=llm["response_model"],
        response_id=llm["response_id"], usage=Usage(**usage, source=llm["usage"]["source"]),
        cost=Cost(), finish_reasons=tuple(llm["finish_reasons"] or ()),
        finish_reasons_raw=tuple(llm["finish_reasons_raw"] or ()),
        is_streaming=llm["is_streaming"], session_id=llm["session_id"], user_id=llm["user_id"],
        input_messages=llm["input_messages"], output_messages=llm["output_messages"],
        system_instructions=llm["system_instructions"], tool_calls=llm["tool_calls"],
        is_error=bool(llm["is_error"]), error_type=error.get("type"),
        error_message=error.get("message"),
    )  # fmt: skip


def expected_cost(llm: dict[str, Any], start_time: str) -> Decimal:
    usage = llm["usage"]
    counts = {
        "input_tokens": usage["input_tokens"],
        "cache_read_tokens": usage["cache_read_tokens"],
        "cache_write_tokens": usage["cache_write_tokens"],
        "output_tokens": usage["output_tokens"],
        "output_reasoning_tokens": usage["reasoning_tokens"],
    }
    price = calc_price(
        GenaiUsage(**{k: v for k, v in counts.items() if v is not None}),
        llm["response_model"] or llm["request_model"],
        provider_id=llm["provider"],
        genai_request_timestamp=datetime.fromisoformat(start_time.replace("Z", "+00:00")),
    )
    return price.total_price


def test_corpus_records_are_stored_as_the_ground_truth_says(
    stack: Stack, database_url: str
) -> None:
    for case in CASES:
        pb = case.with_name(case.name.replace(".expected.json", ".otlp.pb"))
        status, _, _ = post(f"{stack.http_endpoint}/v1/traces", pb.read_bytes())
        assert status == 200, case
    total_counted = 0
    for case in CASES:
        truth = json.loads(case.read_text())
        spans: list[dict[str, Any]] = []
        for trace_id, count in case_trace_spans(case).items():
            spans += flatten(wait_for_trace(stack.api_url, trace_id, count)["spans"])
        counted = sorted(
            (s for s in spans if s["llm"] and s["llm"]["is_counted"]),
            key=lambda s: (int(s["start_time_unix_nano"]), s["span_id"]),
        )
        assert len(counted) == truth["expected"]["llm_call_count"], case
        total_counted += len(counted)
        for span, want, emitted in zip(
            counted, truth["expected"]["calls"], truth["emitted"]["calls"], strict=True
        ):
            llm = span["llm"]
            check_call(call_from_api(llm), want, emitted["fields"], truth["library"])
            if llm["usage"]["source"] == "absent":
                assert llm["cost"]["price_source"] == "unpriced"
                assert llm["cost"]["total_usd"] is None, "absent usage is never $0"
                continue
            assert llm["cost"]["price_source"] == "genai-prices", case
            cost = Decimal(llm["cost"]["total_usd"])
            assert cost.quantize(MICRO) == expected_cost(llm, span["start_time"]).quantize(MICRO)
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT sum(llm_call_count) FROM traces").fetchone()
    assert row is not None and row[0] == total_counted, "trace totals count each call once"
