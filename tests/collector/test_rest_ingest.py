"""REST ingestion: traces and spans opened and completed by JSON calls become OTel spans that
the default pipeline normalises and prices, stored once, in the key's project."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from genai_prices import Usage as GenaiUsage
from genai_prices import calc_price

from services.collector.processors.registry import DEFAULT_STEPS
from services.storage.rows import span_rows
from services.storage.writer import write_spans
from tests.collector.conftest import (
    CollectorUnderTest,
    IssuedKey,
    add_key,
    start_collector,
    stream_batches,
)

WHEN = "2025-10-01T12:00:00Z"


@pytest.fixture
async def rest(redis_url: str, database_url: str) -> AsyncIterator[CollectorUnderTest]:
    """A collector outside dev mode running the default pipeline."""
    running = await start_collector(redis_url, database_url, DEFAULT_STEPS, dev_mode=False)
    yield running
    await running.stop()


@pytest.fixture
async def alpha(database_url: str) -> IssuedKey:
    return await add_key(database_url, "alpha")


async def call(
    collector: CollectorUnderTest,
    method: str,
    path: str,
    key: IssuedKey | None,
    body: Any = None,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key.secret
    response = await collector.http.request(
        method, path, json=body if raw is None else None, data=raw, headers=headers
    )
    return response.status, await response.json()


async def open_trace(collector: CollectorUnderTest, key: IssuedKey, **body: Any) -> str:
    status, reply = await call(collector, "POST", "/api/traces", key, {"name": "t", **body})
    assert status == 201, reply
    return str(reply["trace_id"])


async def open_span(
    collector: CollectorUnderTest, key: IssuedKey, trace_id: str, **body: Any
) -> str:
    status, reply = await call(
        collector, "POST", f"/api/traces/{trace_id}/spans", key, {"name": "s", **body}
    )
    assert status == 201, reply
    return str(reply["span_id"])


async def store(collector: CollectorUnderTest, database_url: str) -> None:
    """What the storage service does with the hand-off: write every batch to PostgreSQL."""
    records = [record for batch in await stream_batches(collector) for record in batch.records]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await write_spans(conn, span_rows(records))


async def test_a_trace_with_llm_and_tool_spans_is_stored_normalized_and_priced(
    rest: CollectorUnderTest, alpha: IssuedKey, database_url: str
) -> None:
    status, created = await call(rest, "POST", "/api/traces", alpha, {
        "name": "support chat", "session_id": "s-1", "user_id": "u-1", "tags": ["prod"],
        "metadata": {"env": "test"}, "input": {"question": "weather?"}, "start_time": WHEN,
        "service_name": "support-bot",
    })  # fmt: skip
    assert status == 201 and created["created"] is True
    trace_id, root_id = created["trace_id"], created["span_id"]
    llm_id = await open_span(
        rest, alpha, trace_id, name="chat gpt-4o-mini", kind="llm", model="gpt-4o-mini",
        provider="openai", input=[{"role": "user", "content": "Weather in Paris?"}],
        start_time="2025-10-01T12:00:01.250Z",
    )  # fmt: skip
    tool_id = await open_span(
        rest, alpha, trace_id, name="get_weather", kind="tool", parent_id=llm_id,
        input={"city": "Paris"}, tool_call_id="call_1", start_time="2025-10-01T12:00:02Z",
    )  # fmt: skip
    status, done = await call(rest, "PATCH", f"/api/spans/{tool_id}/complete", alpha, {
        "output": {"celsius": 21}, "end_time": "2025-10-01T12:00:02.5Z",
    })  # fmt: skip
    assert (status, done["status"]) == (200, "completed")
    status, done = await call(rest, "PATCH", f"/api/spans/{llm_id}/complete", alpha, {
        "output": "Sunny, 21 °C.", "usage": {"input_tokens": 1000, "output_tokens": 500},
        "finish_reasons": ["stop"], "response_model": "gpt-4o-mini-2024-07-18",
        "end_time": "2025-10-01T12:00:03Z", "metadata": {"attempt": 1},
    })  # fmt: skip
    assert (status, done) == (200, {"trace_id": trace_id, "span_id": llm_id, "status": "completed"})
    status, done = await call(rest, "PATCH", f"/api/traces/{trace_id}/complete", alpha, {
        "output": "answered", "status": "ok", "end_time": "2025-10-01T12:00:04Z",
    })  # fmt: skip
    assert (status, done["span_id"]) == (200, root_id)

    batches = await stream_batches(rest)
    assert [batch.project_id for batch in batches] == ["alpha"] * 3
    await store(rest, database_url)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        llm = await (await conn.execute(
            "SELECT parent_span_id, kind, provider, request_model, response_model, input_tokens,"
            " output_tokens, cost_usd, price_source, session_id, user_id, tags, input_messages,"
            " output_messages, finish_reasons, start_time, duration_ms, service_name,"
            " attributes->>'llmobs.metadata.attempt', project_id"
            " FROM spans WHERE span_id = %s", (llm_id,),
        )).fetchone()  # fmt: skip
        tool = await (await conn.execute(
            "SELECT parent_span_id, llm_span_type, tool_calls, session_id FROM spans"
            " WHERE span_id = %s", (tool_id,),
        )).fetchone()  # fmt: skip
        trace = await (await conn.execute(
            "SELECT root_span_id, root_name, span_count, llm_call_count, input_tokens,"
            " output_tokens, cost_usd, session_id, user_id, service_name FROM traces"
            " WHERE project_id = 'alpha' AND trace_id = %s", (trace_id,),
        )).fetchone()  # fmt: skip
    assert llm is not None and tool is not None and trace is not None
    expected_cost = calc_price(
        GenaiUsage(input_tokens=1000, output_tokens=500), "gpt-4o-mini", provider_id="openai",
        genai_request_timestamp=datetime(2025, 10, 1, 12, 0, 1, tzinfo=UTC),
    ).total_price  # fmt: skip
    assert expected_cost > 0
    assert llm[:10] == (
        root_id, 3, "openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 1000, 500,
        expected_cost, "genai-prices", "s-1",
    )  # fmt: skip
    assert llm[10:12] == ("u-1", ["prod"])
    assert llm[12] == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}
    ]
    assert llm[13] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Sunny, 21 °C."}]}
    ]
    assert llm[14] == ["stop"]
    assert llm[15] == datetime(2025, 10, 1, 12, 0, 1, 250000, tzinfo=UTC)
    assert llm[16:] == (1750.0, "support-bot", "1", "alpha")
    assert tool[0] == llm_id and tool[1] == "tool" and tool[3] == "s-1"
    assert tool[2] == [
        {"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"},
         "result": {"celsius": 21}},
    ]  # fmt: skip
    assert trace == (root_id, "support chat", 3, 1, 1000, 500, expected_cost, "s-1", "u-1",
                     "support-bot")  # fmt: skip


async def test_completion_is_idempotent_and_the_first_one_wins(
    rest: CollectorUnderTest, alpha: IssuedKey, database_url: str
) -> None:
    trace_id = await open_trace(rest, alpha)
    span_id = await open_span(rest, alpha, trace_id, kind="chain", input="in")
    path = f"/api/spans/{span_id}/complete"
    assert (await call(rest, "PATCH", path, alpha, {"output": "first"}))[1]["status"] == (
        "completed"
    )
    for output in ("second", "first"):
        status, reply = await call(rest, "PATCH", path, alpha, {"output": output})
        assert (status, reply["status"]) == (200, "already_completed")
    batches = await stream_batches(rest)
    assert len(batches) == 1
    assert batches[0].records[0]["attributes"]["llmobs.output"] == '"first"'
    # Every piece of open state expires (the root span is still open, the span completed).
    keys = await rest.redis.keys("llmobs:rest:*")
    assert len(keys) == 3
    assert all([0 < await rest.redis.ttl(key) <= 86400 for key in keys])


async def test_client_ids_make_creation_idempotent(
    rest: CollectorUnderTest, alpha: IssuedKey
) -> None:
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    first = await call(rest, "POST", "/api/traces", alpha, {"name": "t", "id": trace_id.upper()})
    again = await call(rest, "POST", "/api/traces", alpha, {"name": "t", "id": trace_id})
    assert first[0] == 201 and again[0] == 200
    assert first[1]["trace_id"] == again[1]["trace_id"] == trace_id
    assert first[1]["span_id"] == again[1]["span_id"]
    span = {"name": "s", "id": "b7ad6b7169203331"}
    path = f"/api/traces/{trace_id}/spans"
    assert (await call(rest, "POST", path, alpha, span))[0] == 201
    assert (await call(rest, "POST", path, alpha, span)) == (
        200, {"trace_id": trace_id, "span_id": "b7ad6b7169203331", "created": False}
    )  # fmt: skip
    other = await open_trace(rest, alpha)
    status, reply = await call(rest, "POST", f"/api/traces/{other}/spans", alpha, span)
    assert status == 400
    assert reply["error"]["errors"] == [
        {"field": "/id", "message": f"span id is already used in trace {trace_id}"}
    ]


async def assert_invalid(
    collector: CollectorUnderTest, method: str, path: str, key: IssuedKey, body: Any,
    fields: dict[str, str],
) -> None:  # fmt: skip
    status, reply = await call(collector, method, path, key, body)
    assert status == 400, reply
    got = {error["field"]: error["message"] for error in reply["error"]["errors"]}
    assert set(got) == set(fields), got
    for field, words in fields.items():
        assert words in got[field], (field, got[field])
        assert f"{field}: " in reply["error"]["message"]


async def test_validation_errors_name_every_field(
    rest: CollectorUnderTest, alpha: IssuedKey
) -> None:
    await assert_invalid(rest, "POST", "/api/traces", alpha, {}, {"/name": "is required"})
    await assert_invalid(rest, "POST", "/api/traces", alpha, {
        "name": 5, "id": "xyz", "tags": ["a", 3], "start_time": "yesterday",
        "start": "2025-01-01T00:00:00Z", "metadata": [], "session_id": "",
    }, {
        "/name": "non-empty string", "/id": "32 lowercase hex", "/tags/1": "non-empty string",
        "/start_time": "RFC 3339", "/start": "unknown field", "/metadata": "an object",
        "/session_id": "non-empty string",
    })  # fmt: skip
    await assert_invalid(rest, "POST", "/api/traces", alpha,
                         {"name": "t", "start_time": "2025-10-01T12:00:00"},
                         {"/start_time": "with a zone"})  # fmt: skip
    await assert_invalid(rest, "POST", "/api/traces", alpha,
                         {"name": "t", "start_time": "1969-12-31T23:59:59Z"},
                         {"/start_time": "after 1970"})  # fmt: skip
    trace_id = await open_trace(rest, alpha, start_time=WHEN)
    spans = f"/api/traces/{trace_id}/spans"
    await assert_invalid(rest, "POST", spans, alpha, {
        "name": "x", "kind": "llm", "input": [{"content": "hi"}, "text"], "model": 3,
        "parent_id": "0" * 15,
    }, {
        "/input/0/role": "is required", "/input/1": "an object with a role",
        "/model": "non-empty string", "/parent_id": "16 lowercase hex",
    })  # fmt: skip
    await assert_invalid(rest, "POST", spans, alpha, {"name": "x", "kind": "step"},
                         {"/kind": "one of llm, embedding, tool"})  # fmt: skip
    await assert_invalid(rest, "POST", spans, alpha, {"name": "x", "model": "gpt-4o"},
                         {"/model": "only llm, embedding"})  # fmt: skip
    llm = await open_span(rest, alpha, trace_id, kind="llm", start_time="2025-10-01T12:00:05Z")
    await assert_invalid(rest, "PATCH", f"/api/spans/{llm}/complete", alpha, {
        "usage": {"input_tokens": -1, "output_tokens": True, "foo": 1}, "status": "meh",
        "error": {"code": 1}, "output": {"text": "not messages"},
    }, {
        "/usage/input_tokens": "non-negative integer", "/usage/output_tokens": "non-negative",
        "/usage/foo": "unknown field", "/status": "one of ok, error",
        "/error/code": "unknown field", "/output": "list of messages or a string",
    })  # fmt: skip
    await assert_invalid(rest, "PATCH", f"/api/spans/{llm}/complete", alpha,
                         {"end_time": "2025-10-01T12:00:04Z"},
                         {"/end_time": "before the span's start_time"})  # fmt: skip
    await assert_invalid(rest, "PATCH", f"/api/traces/{trace_id}/complete", alpha,
                         {"usage": {"input_tokens": 1}},
                         {"/usage": "only llm and embedding spans carry usage"})  # fmt: skip
    assert await stream_batches(rest) == []


async def test_bad_requests_get_a_clear_status(rest: CollectorUnderTest, alpha: IssuedKey) -> None:
    status, reply = await call(rest, "POST", "/api/traces", alpha, raw=b"{not json")
    assert status == 400 and reply["error"]["errors"][0]["field"] == "/"
    assert "not valid JSON" in reply["error"]["message"]
    status, reply = await call(rest, "POST", "/api/traces", alpha, raw=b"[1]")
    assert (status, reply["error"]["message"]) == (400, "/: body must be a JSON object")
    response = await rest.http.post(
        "/api/traces", data=b"name=x",
        headers={"x-api-key": alpha.secret, "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert response.status == 415
    status, reply = await call(rest, "POST", "/api/traces/nothex/spans", alpha, {"name": "s"})
    assert status == 400 and "path parameter trace_id" in reply["error"]["message"]
    status, reply = await call(rest, "POST", f"/api/traces/{'a' * 32}/spans", alpha, {"name": "s"})
    assert status == 404 and "POST /api/traces first" in reply["error"]["message"]
    status, reply = await call(rest, "PATCH", f"/api/spans/{'b' * 16}/complete", alpha, {})
    assert (status, reply["error"]["status"]) == (404, 404)


async def test_rest_needs_a_key_and_stays_in_the_key_project(
    rest: CollectorUnderTest, alpha: IssuedKey, database_url: str
) -> None:
    beta = await add_key(database_url, "beta")
    reader = await add_key(database_url, "alpha", scopes=("read",))
    status, reply = await call(rest, "POST", "/api/traces", None, {"name": "t"})
    assert (status, reply["error"]["message"].startswith("an API key is required")) == (401, True)
    assert (await call(rest, "POST", "/api/traces", reader, {"name": "t"}))[0] == 403
    trace_id = await open_trace(rest, alpha)
    span_id = await open_span(rest, alpha, trace_id)
    # Another project's key sees neither the trace nor the span.
    assert (await call(rest, "POST", f"/api/traces/{trace_id}/spans", beta, {"name": "s"}))[
        0
    ] == 404
    assert (await call(rest, "PATCH", f"/api/spans/{span_id}/complete", beta, {}))[0] == 404
    assert (await call(rest, "PATCH", f"/api/traces/{trace_id}/complete", beta, {}))[0] == 404
    # The same trace id opened by beta is beta's own trace.
    status, _ = await call(rest, "POST", "/api/traces", beta, {"name": "t", "id": trace_id})
    assert status == 201
    assert (await call(rest, "PATCH", f"/api/spans/{span_id}/complete", alpha, {}))[0] == 200
    assert (await call(rest, "PATCH", f"/api/traces/{trace_id}/complete", beta, {}))[0] == 200
    batches = await stream_batches(rest)
    assert [(b.project_id, b.records[0]["project_id"]) for b in batches] == [
        ("alpha", "alpha"), ("beta", "beta"),
    ]  # fmt: skip


async def test_a_refused_completion_is_emitted_on_retry(redis_url: str, database_url: str) -> None:
    collector = await start_collector(
        redis_url, database_url, dev_mode=False, ingest_spans_per_second=1
    )
    try:
        key = await add_key(database_url, "alpha")
        trace_id = await open_trace(collector, key)
        first, second = [await open_span(collector, key, trace_id) for _ in range(2)]
        assert (await call(collector, "PATCH", f"/api/spans/{first}/complete", key, {}))[0] == 200
        response = await collector.http.patch(
            f"/api/spans/{second}/complete", json={"output": "kept"},
            headers={"x-api-key": key.secret},
        )  # fmt: skip
        assert response.status == 429
        assert response.headers["Retry-After"] == "1"
        await asyncio.sleep(1.05)
        # The retry's body differs; the completion recorded by the refused call stands.
        status, reply = await call(
            collector, "PATCH", f"/api/spans/{second}/complete", key, {"output": "other"}
        )
        assert (status, reply["status"]) == (200, "completed")
        outputs = [b.records[0]["attributes"].get("llmobs.output") for b in await stream_batches(
            collector)]  # fmt: skip
        assert outputs == [None, '"kept"']
    finally:
        await collector.stop()


async def test_opening_traces_and_spans_counts_against_the_request_rate(
    redis_url: str, database_url: str
) -> None:
    collector = await start_collector(
        redis_url, database_url, dev_mode=False, ingest_requests_per_second=2
    )
    try:
        key = await add_key(database_url, "alpha")
        trace_id = await open_trace(collector, key)
        await open_span(collector, key, trace_id)
        status, reply = await call(collector, "POST", "/api/traces", key, {"name": "t"})
        assert status == 429
        assert "over its ingest quota of 2 requests per second" in reply["error"]["message"]
    finally:
        await collector.stop()


async def test_redis_down_is_503(database_url: str) -> None:
    collector = await start_collector("redis://127.0.0.1:1/0", database_url)
    try:
        response = await collector.http.post("/api/traces", json={"name": "t"})
        assert response.status == 503
        assert int(response.headers["Retry-After"]) >= 1
        assert "unavailable" in (await response.json())["error"]["message"]
    finally:
        await collector.stop()
