"""`/v1/traces` and `/v1/traces/{id}` over spans written by the storage writer."""

from __future__ import annotations

import time
from dataclasses import replace

from aiohttp.test_utils import TestClient

from shared.span import Span
from tests.api.direct import rows
from tests.storage.test_writer import make_span, write


def trace_id(number: int) -> str:
    return f"{number:032x}"


async def seed(database_url: str, traces: int) -> None:
    spans = []
    for number in range(1, traces + 1):
        root = replace(make_span("00000000000000a1", None, number * 100), trace_id=trace_id(number))
        child = replace(
            make_span("00000000000000b2", "00000000000000a1", number * 100 + 1),
            trace_id=trace_id(number),
        )
        spans += [root, child]
    await write(database_url, spans)


async def test_list_is_newest_first_and_pages_with_a_cursor(
    api: TestClient, database_url: str
) -> None:
    await seed(database_url, 7)
    seen: list[str] = []
    url = "/v1/traces?limit=3"
    while True:
        response = await api.get(url)
        assert response.status == 200
        body = await response.json()
        seen += [item["trace_id"] for item in body["data"]]
        if not body["next_cursor"]:
            break
        url = f"/v1/traces?limit=3&cursor={body['next_cursor']}"
    assert seen == [trace_id(n) for n in range(7, 0, -1)]
    first = (await (await api.get("/v1/traces?limit=1")).json())["data"][0]
    assert first["span_count"] == 2
    assert first["root_span_id"] == "00000000000000a1"


async def test_trace_is_a_tree(api: TestClient, database_url: str) -> None:
    await seed(database_url, 1)
    response = await api.get(f"/v1/traces/{trace_id(1).upper()}")
    assert response.status == 200
    body = await response.json()
    assert body["span_count"] == 2
    (root,) = body["spans"]
    assert root["span_id"] == "00000000000000a1"
    assert [child["span_id"] for child in root["children"]] == ["00000000000000b2"]
    assert root["children"][0]["parent_span_id"] == "00000000000000a1"


async def test_a_trace_across_days_and_batches_is_read_whole(
    api: TestClient, database_url: str
) -> None:
    # Children stored first, a day apart; then the root, which starts before both: three day
    # partitions, and the trace's bounds moved by each batch.
    base_ns = (int(time.time()) - 5 * 86_400) * 10**9

    def at(span_id: str, parent: str | None, days: int) -> Span:
        start_ns = base_ns + days * 86_400 * 10**9
        span = make_span(span_id, parent, 0)
        return replace(span, trace_id=trace_id(9), start_time_unix_nano=start_ns,
                       end_time_unix_nano=start_ns + 10**9)  # fmt: skip

    for batch in ([at("00000000000000c3", "00000000000000a1", 2)],
                  [at("00000000000000b2", "00000000000000a1", 1)],
                  [at("00000000000000a1", None, 0)]):  # fmt: skip
        await write(database_url, batch)
    partitions = rows(database_url, "SELECT count(DISTINCT tableoid) FROM spans")
    assert partitions == [(3,)]
    body = await (await api.get(f"/v1/traces/{trace_id(9)}")).json()
    assert body["span_count"] == 3
    (tree_root,) = body["spans"]
    assert [child["span_id"] for child in tree_root["children"]] == [
        "00000000000000b2", "00000000000000c3",
    ]  # fmt: skip


async def test_cycle_of_parents_is_broken(api: TestClient, database_url: str) -> None:
    a = replace(make_span("000000000000000a", "000000000000000b", 0), trace_id=trace_id(5))
    b = replace(make_span("000000000000000b", "000000000000000a", 1), trace_id=trace_id(5))
    await write(database_url, [a, b])
    body = await (await api.get(f"/v1/traces/{trace_id(5)}")).json()
    assert len(body["spans"]) == 1 and len(body["spans"][0]["children"]) == 1


async def test_errors_name_the_problem(api: TestClient, database_url: str) -> None:
    cases = {
        f"/v1/traces/{trace_id(99)}": (404, "not found"),
        "/v1/traces/not-hex": (400, "'trace_id' must be 32 hex digits"),
        "/v1/traces?limit=0": (400, "'limit' must be between 1 and 1000"),
        "/v1/traces?limit=x": (400, "'limit' must be an integer"),
        "/v1/traces?cursor=%%%": (400, "'cursor'"),
        "/v1/traces?cursor=WyJ4Il0": (400, "'cursor'"),
    }
    for url, (status, words) in cases.items():
        response = await api.get(url)
        assert response.status == status, url
        body = await response.json()
        assert body["error"]["status"] == status
        assert words in body["error"]["message"], url
