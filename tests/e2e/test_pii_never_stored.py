"""No labelled PII or secret of the corpus reaches the database, wherever it travels in a span."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import psycopg
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tests.e2e.otlp_load import post
from tests.e2e.services import Stack

CORPUS = Path(__file__).resolve().parents[2] / "test-data" / "pii" / "corpus.jsonl"


def positives() -> list[dict[str, Any]]:
    cases = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    return [case for case in cases if case["label"] == "positive"]


def kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def request_for(cases: list[dict[str, Any]], batch: int) -> bytes:
    """One LLM chat span per case: the text as message content (or the JSON messages as sent),
    as a plain attribute, and in an event."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(kv("service.name", "pii-test"))
    scope = resource_spans.scope_spans.add()
    for index, case in enumerate(cases):
        span = scope.spans.add()
        span.trace_id = (batch * 1000 + index + 1).to_bytes(16, "big")
        span.span_id = (index + 1).to_bytes(8, "big")
        span.name = "chat gpt-4o-mini"
        span.kind = 3
        span.start_time_unix_nano = 1_790_000_000_000_000_000 + index
        span.end_time_unix_nano = span.start_time_unix_nano + 1_000_000
        messages = (
            case["text"]
            if case["format"] == "json"
            else json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": case["text"]}]}]
            )
        )
        span.attributes.extend([
            kv("gen_ai.operation.name", "chat"), kv("gen_ai.provider.name", "openai"),
            kv("gen_ai.request.model", "gpt-4o-mini"), kv("gen_ai.input.messages", messages),
            kv("app.note", case["text"]),
        ])  # fmt: skip
        event = span.events.add()
        event.name = "gen_ai.user.message"
        event.time_unix_nano = span.start_time_unix_nano
        event.attributes.append(kv("content", case["text"]))
    return request.SerializeToString()


def fragments(secret: str) -> list[str]:
    """Pieces of a secret that would show in stored text (JSON escapes newlines and quotes)."""
    pieces = [piece for piece in re.split(r"[\s\"\\]+", secret) if len(piece) >= 6]
    return pieces or [secret]


# Table -> (its row count, every row as text).
_TABLE_QUERIES = {
    "spans": ("SELECT count(*) FROM spans", "SELECT t::text FROM spans t"),
    "log_records": ("SELECT count(*) FROM log_records", "SELECT t::text FROM log_records t"),
}


def stored_text(database_url: str, table: str, expected_rows: int) -> str:
    """Every row of `table` as text, once it holds `expected_rows` rows (60 s at most)."""
    count_query, text_query = _TABLE_QUERIES[table]
    deadline = time.monotonic() + 60
    with psycopg.connect(database_url, autocommit=True) as conn:
        count = 0
        while time.monotonic() < deadline:
            row = conn.execute(count_query).fetchone()
            count = row[0] if row else 0
            if count == expected_rows:
                break
            time.sleep(0.1)
        assert count == expected_rows
        return "\n".join(str(r[0]) for r in conn.execute(text_query))


def leaked(cases: list[dict[str, Any]], stored: str) -> list[tuple[str, str]]:
    """(case id, fragment) of every labelled secret found in the stored text."""
    return [
        (case["id"], piece)
        for case in cases
        for values in case["secrets"].values()
        for secret in values
        for piece in fragments(secret)
        if piece in stored
    ]


def test_no_positive_case_reaches_the_database(stack: Stack, database_url: str) -> None:
    cases = positives()
    assert len(cases) >= 200
    batch_size = 50
    for batch, start in enumerate(range(0, len(cases), batch_size)):
        body = request_for(cases[start : start + batch_size], batch)
        status, _, _ = post(f"{stack.http_endpoint}/v1/traces", body)
        assert status == 200
    stored = stored_text(database_url, "spans", len(cases))
    with psycopg.connect(database_url) as conn:
        stored += "\n".join(str(r[0]) for r in conn.execute("SELECT t::text FROM traces t"))
    leaks = leaked(cases, stored)
    assert not leaks, f"{len(leaks)} PII fragments stored, e.g. {leaks[:5]}"
    assert "[REDACTED:" in stored


def logs_request_for(cases: list[dict[str, Any]]) -> bytes:
    """One log record per case: the text as the body (GenAI content events travel this way)
    and as an attribute."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.append(kv("service.name", "pii-test"))
    scope = resource_logs.scope_logs.add()
    for index, case in enumerate(cases):
        record = scope.log_records.add()
        record.time_unix_nano = 1_790_000_000_000_000_000 + index
        record.event_name = "gen_ai.user.message"
        record.body.kvlist_value.values.append(kv("content", case["text"]))
        record.attributes.append(kv("app.note", case["text"]))
    return request.SerializeToString()


def test_no_positive_case_reaches_the_database_through_logs(
    stack: Stack, database_url: str
) -> None:
    cases = positives()
    status, _, _ = post(f"{stack.http_endpoint}/v1/logs", logs_request_for(cases))
    assert status == 200
    stored = stored_text(database_url, "log_records", len(cases))
    leaks = leaked(cases, stored)
    assert not leaks, f"{len(leaks)} PII fragments stored in logs, e.g. {leaks[:5]}"
