"""The writer: COPY + upsert is idempotent, and trace rows fold spans arriving in any order."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson
import psycopg
import pytest

from services.storage.partitions import PartitionWindow
from services.storage.rows import span_rows
from services.storage.writer import BatchWriter
from shared.handoff import decode_entry, encode_spans
from shared.span import Cost, LLMCall, Span, Usage

BASE = 1_790_000_000_000_000_000
TRACE = "0af7651916cd43dd8448eb211c80319c"


def make_span(span_id: str, parent: str | None, offset_ms: int, **changes: Any) -> Span:
    span = Span(
        project_id="default", trace_id=TRACE, span_id=span_id, parent_span_id=parent,
        name=f"span {span_id}", kind=1,
        start_time_unix_nano=BASE + offset_ms * 1_000_000 + 123,
        end_time_unix_nano=BASE + (offset_ms + 10) * 1_000_000 + 456,
        resource_attributes={"service.name": "svc"}, received_unix_nano=BASE,
        attributes={"k": "v\x00nul", "bytes": b"\x01"},
    )  # fmt: skip
    return replace(span, **changes)


def records(spans: list[Span]) -> list[dict[str, Any]]:
    """What storage reads from the stream: the hand-off encoding, decoded."""
    return decode_entry(encode_spans("default", spans)).records


async def write(database_url: str, spans: list[Span]) -> int:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        return await BatchWriter(PartitionWindow(30, 3)).write_spans(
            conn, span_rows(records(spans))
        )


def fetch(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql).fetchall()


LLM = LLMCall(
    convention="otel_genai", span_type="llm", provider="openai", operation="chat",
    request_model="gpt-4o-mini", session_id="s1", user_id="u1",
    usage=Usage(input_tokens=431, output_tokens=97, cache_read_tokens=128, source="reported"),
    cost=Cost(total_usd=Decimal("0.000123456789"), price_source="genai-prices"),
    finish_reasons=("stop",), tags=("a", "b"),
    input_messages=[{"role": "user", "content": "hi"}],
)  # fmt: skip


async def test_redelivered_batch_changes_nothing(database_url: str) -> None:
    spans = [make_span("0000000000000001", None, 0), make_span("0000000000000002",
             "0000000000000001", 5, llm=LLM)]  # fmt: skip
    assert await write(database_url, spans) == 2
    before = fetch(database_url, "SELECT * FROM traces")
    assert await write(database_url, spans) == 0
    assert await write(database_url, spans + spans) == 0
    assert fetch(database_url, "SELECT count(*) FROM spans") == [(2,)]
    after = fetch(database_url, "SELECT * FROM traces")
    assert after == before  # not even updated_at: nothing was folded


async def test_values_are_stored_exactly(database_url: str) -> None:
    await write(database_url, [make_span("0000000000000002", None, 5, llm=LLM)])
    (row,) = fetch(
        database_url,
        "SELECT start_time_unix_nano, end_time_unix_nano, extract(epoch from start_time)::text,"
        " attributes, input_tokens, cache_read_tokens, cost_usd, usage_source, finish_reasons,"
        " tags, input_messages, session_id, service_name FROM spans",
    )
    assert row[0] == BASE + 5_000_000 + 123
    assert row[1] == BASE + 15_000_000 + 456
    assert row[2] == "1790000000.005000"  # microseconds exact, nanoseconds kept in row[0]
    assert row[3] == {"k": "v\\u0000nul", "bytes": "AQ=="}
    assert row[4:8] == (431, 128, Decimal("0.000123456789"), "reported")
    assert row[8:10] == (["stop"], ["a", "b"])
    assert row[10] == [{"role": "user", "content": "hi"}]
    assert row[11:] == ("s1", "svc")


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
async def test_trace_row_is_the_same_whatever_the_arrival_order(
    database_url: str, order: list[int]
) -> None:
    spans = [
        make_span("0000000000000001", None, 0, name="root"),
        make_span("0000000000000002", "0000000000000001", 5, llm=LLM, status_code=2),
        make_span("0000000000000003", "0000000000000001", 20,
                  llm=replace(LLM, is_counted=False)),
    ]  # fmt: skip
    for index in order:  # one batch each: separate requests
        await write(database_url, [spans[index]])
    (trace,) = fetch(
        database_url,
        "SELECT root_span_id, root_name, service_name, span_count, error_count, llm_call_count,"
        " input_tokens, output_tokens, cost_usd, session_id, user_id,"
        " (end_time - start_time)::text FROM traces",
    )
    assert trace == (
        "0000000000000001", "root", "svc", 3, 1, 1, 431, 97, Decimal("0.000123456789"),
        "s1", "u1", "00:00:00.03",
    )  # fmt: skip


async def test_hand_off_round_trip_keeps_every_field() -> None:
    span = make_span("0000000000000009", None, 0, llm=LLM)
    (record,) = records([span])
    assert record["llm"]["usage"]["cache_read_tokens"] == 128
    assert record["llm"]["cost"]["total_usd"] == "0.000123456789"
    assert orjson.loads(orjson.dumps(record))["attributes"]["bytes"] == "AQ=="


@pytest.mark.parametrize("root_first", [True, False])
async def test_identity_on_the_root_reaches_calls_sent_in_other_requests(
    database_url: str, root_first: bool
) -> None:
    from shared.span import TraceIdentity

    root = make_span("0000000000000001", None, 0, identity=TraceIdentity("sess-9", "user-9"))
    call = make_span(
        "0000000000000002", "0000000000000001", 5,
        llm=replace(LLM, session_id=None, user_id=None),
    )  # fmt: skip
    for batch in ([root], [call]) if root_first else ([call], [root]):
        await write(database_url, batch)
    rows = fetch(database_url, "SELECT span_id, session_id, user_id FROM spans ORDER BY span_id")
    assert rows == [
        ("0000000000000001", "sess-9", "user-9"),
        ("0000000000000002", "sess-9", "user-9"),
    ]
    assert fetch(database_url, "SELECT session_id, user_id FROM traces") == [("sess-9", "user-9")]


async def test_identity_reaches_calls_written_concurrently_with_their_root(
    database_url: str,
) -> None:
    """Roots (with the identity) and their calls (without) written by two writers at once, in
    batches that interleave: every call ends with its trace's session and user."""
    from shared.span import TraceIdentity

    traces = [f"{index + 1:032x}" for index in range(240)]

    def root(trace: str) -> Span:
        return replace(
            make_span("0000000000000001", None, 0, identity=TraceIdentity(f"s-{trace}", "u")),
            trace_id=trace,
        )

    def calls(trace: str) -> list[Span]:
        call = replace(LLM, session_id=None, user_id=None)
        return [
            replace(make_span(f"{n + 2:016x}", "0000000000000001", n, llm=call), trace_id=trace)
            for n in range(3)
        ]

    async def writer(batches: list[list[Span]]) -> None:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            batch_writer = BatchWriter(PartitionWindow(30, 3))
            for batch in batches:
                await batch_writer.write_spans(conn, span_rows(records(batch)))

    size = 8
    roots = [[root(t) for t in traces[i : i + size]] for i in range(0, len(traces), size)]
    children = [
        [span for t in traces[i : i + size] for span in calls(t)]
        for i in range(0, len(traces), size)
    ]
    await asyncio.gather(writer(roots), writer(children))
    missing = fetch(
        database_url,
        "SELECT count(*) FROM spans WHERE llm_convention IS NOT NULL"
        " AND (session_id IS DISTINCT FROM 's-' || trace_id OR user_id IS DISTINCT FROM 'u')",
    )
    assert fetch(database_url, "SELECT count(*) FROM spans") == [(len(traces) * 4,)]
    assert missing == [(0,)]
