"""Rollups on both storage paths equal raw queries over spans: counts, tokens and cost exactly,
latency histograms bucket for bucket, and p50/p95/p99 within the histogram's stated error."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import replace
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from services.storage.partitions import PartitionWindow
from services.storage.rows import span_rows
from services.storage.writer import BatchWriter
from shared.span import Cost, LLMCall, Span, Usage
from tests.storage.test_writer import records

LEVELS = {"1m": "1 minute", "1h": "1 hour", "1d": "1 day"}
KEYS = ("bucket_start", "project_id", "provider", "model", "operation", "service_name",
        "environment")  # fmt: skip
# The histogram's bound: any latency in (1.05^(i-1), 1.05^i] is within this of 2*1.05^i/2.05.
RELATIVE_ERROR = 0.05 / 2.05
NOW = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
START = NOW - dt.timedelta(hours=50)

CALL_KINDS = [
    ("openai", "gpt-4o-mini", None, "chat"),
    ("anthropic", "claude-sonnet-4-5", None, "chat"),
    ("openai", "text-embedding-3-small", None, "embeddings"),
    (None, None, "served-model", None),  # model known only from the response
]
RESOURCES = [
    {"service.name": "svc-a", "deployment.environment.name": "prod"},
    {"service.name": "svc-b", "deployment.environment": "staging"},
    {"service.name": "svc-b"},
]


def nanos(moment: dt.datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def generate_spans(count: int, seed: int = 7) -> list[Span]:
    """LLM calls (some not counted, some failed, some streamed) and plain spans, over 50 hours."""
    rng = random.Random(seed)
    durations = [46_000.0, 0.0, 0.4, 1.0, 1.05, 3_600_000.0]  # a 46 s call, zero, an hour
    spans = []
    for index in range(count):
        start = START + dt.timedelta(seconds=rng.uniform(0, 50 * 3600))
        duration_ms = durations[index] if index < len(durations) else rng.lognormvariate(6.5, 1.2)
        provider, request_model, response_model, operation = rng.choice(CALL_KINDS)
        roll = rng.random()
        llm = None
        if roll < 0.9:
            streamed = rng.random() < 0.5
            input_tokens = rng.randint(1, 20_000)
            llm = LLMCall(
                convention="otel_genai", span_type="llm", is_counted=roll < 0.8,
                provider=provider, operation=operation, request_model=request_model,
                response_model=response_model,
                usage=Usage(input_tokens=input_tokens, output_tokens=rng.randint(0, 4000),
                            cache_read_tokens=rng.choice([None, rng.randint(0, input_tokens)]),
                            cache_write_tokens=rng.choice([None, 0, 1024]),
                            reasoning_tokens=rng.choice([None, rng.randint(0, 3000)])),
                cost=Cost(total_usd=rng.choice(
                    [None, Decimal(rng.randint(1, 10**9)) / Decimal(10**12)])),
                time_to_first_token_seconds=duration_ms * rng.uniform(0.05, 0.9) / 1000
                if streamed else None,
                is_streaming=streamed, is_error=rng.random() < 0.05,
            )  # fmt: skip
        start_ns = nanos(start)
        spans.append(Span(
            project_id=rng.choice(["default", "default", "p2"]),
            trace_id=f"{index // 5 + 1:032x}", span_id=f"{index + 1:016x}",
            parent_span_id=None, name="call", kind=3, start_time_unix_nano=start_ns,
            end_time_unix_nano=start_ns + round(duration_ms * 1_000_000),
            status_code=2 if llm is not None and llm.is_error else 0,
            resource_attributes=rng.choice(RESOURCES), received_unix_nano=start_ns, llm=llm,
        ))  # fmt: skip
    return spans


async def write_batches(url: str, spans: list[Span], batch_size: int) -> int:
    writer = BatchWriter(PartitionWindow(lookback_days=30, ahead_days=3))
    written = 0
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for offset in range(0, len(spans), batch_size):
            batch = spans[offset : offset + batch_size]
            written += await writer.write_spans(conn, span_rows(records(batch)))
    return written


def fetch(url: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def refresh_if_timescale(url: str) -> None:
    """Continuous aggregates have no background workers on the test server: refresh in order."""
    if fetch(url, "SELECT storage_backend()") != [("timescaledb",)]:
        return
    with psycopg.connect(url, autocommit=True) as conn:
        for level in LEVELS:
            for kind in ("usage", "duration_hist", "ttft_hist", "sampled_out"):
                conn.execute(f"CALL refresh_continuous_aggregate('{kind}_{level}', NULL, NULL)")


RAW_KEYS = """
date_bin(%(width)s::interval, start_time, '2000-01-01 00:00:00+00') AS bucket_start, project_id,
coalesce(provider, ''), coalesce(request_model, response_model, ''), coalesce(operation, ''),
service_name, coalesce(resource_attributes ->> 'deployment.environment.name',
                       resource_attributes ->> 'deployment.environment', '')
"""
RAW_USAGE = f"""
SELECT {RAW_KEYS}, count(*), count(*) FILTER (WHERE is_error OR status_code = 2),
       coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
       coalesce(sum(cache_read_tokens), 0), coalesce(sum(cache_write_tokens), 0),
       coalesce(sum(reasoning_tokens), 0), coalesce(sum(cost_usd), 0),
       count(*) FILTER (WHERE cost_usd IS NULL), count(time_to_first_token_ms),
       max(duration_ms), sum(duration_ms), coalesce(sum(time_to_first_token_ms), 0)
FROM spans WHERE llm_is_counted GROUP BY 1, 2, 3, 4, 5, 6, 7
"""
ROLLUP_USAGE = """
SELECT bucket_start, project_id, provider, model, operation, service_name, environment,
       requests, errors, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
       reasoning_tokens, cost_usd, unpriced_requests, ttft_count, duration_ms_max,
       duration_ms_sum, ttft_ms_sum
FROM usage_{level}
"""
RAW_HISTOGRAM = f"""
SELECT {RAW_KEYS}, m.metric, ceil(ln(greatest(m.value, 0.001)) / ln(1.05::float8))::integer,
       count(*)
FROM spans CROSS JOIN LATERAL (VALUES ('duration', duration_ms),
                                      ('ttft', time_to_first_token_ms)) AS m (metric, value)
WHERE llm_is_counted AND m.value IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""
ROLLUP_HISTOGRAM = """
SELECT bucket_start, project_id, provider, model, operation, service_name, environment, metric,
       bucket_idx, count
FROM latency_hist_{level}
"""


def by_key(rows: list[tuple[Any, ...]], width: int) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return {row[:width]: row[width:] for row in rows}


def assert_usage_equals_raw(url: str) -> None:
    for level, width in LEVELS.items():
        raw = by_key(fetch(url, RAW_USAGE, {"width": width}), 7)
        rollup = by_key(fetch(url, ROLLUP_USAGE.format(level=level)), 7)
        assert rollup.keys() == raw.keys(), level
        for key, expected in raw.items():
            got = rollup[key]
            assert got[:11] == expected[:11], (level, key)  # counts, tokens, cost: exact
            assert got[11] == pytest.approx(expected[11], rel=1e-12), (level, key)  # max
            assert got[12:] == pytest.approx(expected[12:], rel=1e-9), (level, key)  # sums


def assert_histograms_equal_raw(url: str) -> None:
    for level, width in LEVELS.items():
        raw = by_key(fetch(url, RAW_HISTOGRAM, {"width": width}), 9)
        rollup = by_key(fetch(url, ROLLUP_HISTOGRAM.format(level=level)), 9)
        assert rollup == raw, level


PERCENTILE_CASES = [
    # (from, to, filters): whole days, hours and minutes at the edges, then narrower filters.
    (START, NOW, {}),
    (START + dt.timedelta(minutes=17), NOW - dt.timedelta(hours=3, minutes=2), {}),
    (START + dt.timedelta(hours=20, minutes=5), START + dt.timedelta(hours=20, minutes=50), {}),
    (START, NOW, {"model": "gpt-4o-mini"}),
    (START, NOW, {"provider": "", "model": "served-model"}),
    (START + dt.timedelta(hours=2), NOW, {"environment": "prod", "operation": "chat"}),
]
RAW_PERCENTILES = """
SELECT count(*), percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY v)
FROM (
    SELECT CASE %(metric)s WHEN 'duration' THEN duration_ms ELSE time_to_first_token_ms END AS v,
           coalesce(provider, '') AS provider, coalesce(request_model, response_model, '') AS model,
           coalesce(operation, '') AS operation,
           coalesce(resource_attributes ->> 'deployment.environment.name',
                    resource_attributes ->> 'deployment.environment', '') AS environment
    FROM spans
    WHERE llm_is_counted AND project_id = 'default' AND start_time >= %(from)s
      AND start_time < %(to)s
) calls
WHERE v IS NOT NULL
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND (%(model)s::text IS NULL OR model = %(model)s)
  AND (%(operation)s::text IS NULL OR operation = %(operation)s)
  AND (%(environment)s::text IS NULL OR environment = %(environment)s)
"""
ROLLUP_PERCENTILES = """
SELECT calls, ARRAY[p50_ms, p95_ms, p99_ms]
FROM latency_percentiles('default', %(metric)s, %(from)s, %(to)s, provider => %(provider)s,
                         model => %(model)s, operation => %(operation)s,
                         environment => %(environment)s)
"""


def assert_percentiles_within_error(url: str) -> None:
    for start, end, filters in PERCENTILE_CASES:
        for metric in ("duration", "ttft"):
            params = {"metric": metric, "from": start, "to": end, "provider": None, "model": None,
                      "operation": None, "environment": None, **filters}  # fmt: skip
            [(count, exact)] = fetch(url, RAW_PERCENTILES, params)
            [(calls, estimated)] = fetch(url, ROLLUP_PERCENTILES, params)
            assert calls == count > 0, (metric, start, end, filters)
            for q, (true, estimate) in zip((50, 95, 99), zip(exact, estimated, strict=True),
                                           strict=True):  # fmt: skip
                error = abs(estimate - true) / true if true else estimate
                assert error <= RELATIVE_ERROR + 1e-12, (metric, q, true, estimate, filters)


@pytest.fixture(scope="module")
def spans() -> list[Span]:
    return generate_spans(3000)


async def test_rollups_equal_raw_queries(backend_url: str, spans: list[Span]) -> None:
    assert await write_batches(backend_url, spans, batch_size=700) == len(spans)
    refresh_if_timescale(backend_url)
    assert_usage_equals_raw(backend_url)
    assert_histograms_equal_raw(backend_url)
    assert_percentiles_within_error(backend_url)


async def test_redelivered_batches_leave_rows_and_rollups_unchanged(
    backend_url: str, spans: list[Span]
) -> None:
    await write_batches(backend_url, spans, batch_size=1000)
    refresh_if_timescale(backend_url)
    relations = ["spans", "traces"] + [f"{kind}_{level}" for kind in ("usage", "latency_hist")
                                       for level in LEVELS]  # fmt: skip
    before = {r: fetch(backend_url, f"SELECT * FROM {r} ORDER BY 1, 2, 3, 4, 5") for r in relations}
    # The same spans again, split differently, and a batch holding one span twice.
    assert await write_batches(backend_url, list(reversed(spans)), batch_size=333) == 0
    assert await write_batches(backend_url, [spans[5], spans[5]], batch_size=2) == 0
    refresh_if_timescale(backend_url)
    for relation in relations:
        after = fetch(backend_url, f"SELECT * FROM {relation} ORDER BY 1, 2, 3, 4, 5")
        if relation == "traces":  # all but updated_at, which an idempotent fold leaves alone too
            after, before[relation] = [r[:-1] for r in after], [r[:-1] for r in before[relation]]
        assert after == before[relation], relation


async def test_late_spans_fold_into_existing_rollup_rows(backend_url: str) -> None:
    spans = generate_spans(400, seed=11)
    await write_batches(backend_url, spans[:200], batch_size=200)
    refresh_if_timescale(backend_url)
    # More calls in the same buckets and groups, in another request.
    late = [replace(span, span_id=f"{int(span.span_id, 16) + 10_000:016x}") for span in spans[:200]]
    await write_batches(backend_url, late + spans[200:], batch_size=250)
    refresh_if_timescale(backend_url)
    assert_usage_equals_raw(backend_url)
    assert_histograms_equal_raw(backend_url)


def test_every_latency_is_within_the_stated_error_of_its_bucket(database_url: str) -> None:
    values = [0.001, 0.3, 1.0, 1.05, 1.0500001, 7.3, 999.9, 46_000.0, 3_600_000.0, 86_400_000.0]
    rows = fetch(
        database_url,
        "SELECT v, latency_bucket(v), latency_bucket_value(latency_bucket(v))"
        " FROM unnest(%s::float8[]) AS v",
        (values,),
    )
    for value, index, estimate in rows:
        assert index == math.ceil(math.log(value) / math.log(1.05) - 1e-12)
        assert abs(estimate - value) / value <= RELATIVE_ERROR + 1e-12, value
    assert fetch(database_url, "SELECT latency_bucket(0), latency_bucket(-5)") == [(-141, -141)]


def test_quantiles_by_nearest_rank(database_url: str) -> None:
    [(quantiles,)] = fetch(
        database_url,
        "SELECT log_histogram_quantiles(ARRAY[30, 10, 20, 20], ARRAY[1, 1, 1, 1]::bigint[],"
        " ARRAY[0.25, 0.5, 0.75, 1.0])",
    )
    expected = [2 * 1.05**i / 2.05 for i in (10, 20, 20, 30)]
    assert quantiles == pytest.approx(expected, rel=1e-12)
    [(empty,)] = fetch(
        database_url,
        "SELECT log_histogram_quantiles('{}'::int[], '{}'::bigint[], ARRAY[0.5])",
    )
    assert empty == [None]


def test_tiles_cover_a_range_with_the_coarsest_rows(database_url: str) -> None:
    tiles = fetch(
        database_url,
        "SELECT level, tile_start, tile_end FROM rollup_tiles(%s, %s) ORDER BY tile_start",
        (dt.datetime(2026, 1, 1, 10, 17, 30, tzinfo=dt.UTC),
         dt.datetime(2026, 1, 3, 15, 42, 10, tzinfo=dt.UTC)),
    )  # fmt: skip
    at = dt.datetime
    utc = dt.UTC
    assert tiles == [
        ("1m", at(2026, 1, 1, 10, 17, tzinfo=utc), at(2026, 1, 1, 11, tzinfo=utc)),
        ("1h", at(2026, 1, 1, 11, tzinfo=utc), at(2026, 1, 2, tzinfo=utc)),
        ("1d", at(2026, 1, 2, tzinfo=utc), at(2026, 1, 3, tzinfo=utc)),
        ("1h", at(2026, 1, 3, tzinfo=utc), at(2026, 1, 3, 15, tzinfo=utc)),
        ("1m", at(2026, 1, 3, 15, tzinfo=utc), at(2026, 1, 3, 15, 43, tzinfo=utc)),
    ]


RAW_ESTIMATED = f"""
SELECT {RAW_KEYS}, sum(w), coalesce(sum(input_tokens * w), 0),
       coalesce(sum(output_tokens * w), 0), coalesce(sum(cost_usd * w), 0)
FROM spans, LATERAL (SELECT coalesce(sample_weight, 1)) AS weight (w)
WHERE llm_is_counted GROUP BY 1, 2, 3, 4, 5, 6, 7
"""
ROLLUP_ESTIMATED = """
SELECT bucket_start, project_id, provider, model, operation, service_name, environment,
       requests, input_tokens, output_tokens, cost_usd
FROM usage_estimated_{level}
"""


def assert_estimated_equals_raw(url: str) -> None:
    for level, width in LEVELS.items():
        raw = by_key(fetch(url, RAW_ESTIMATED, {"width": width}), 7)
        rollup = by_key(fetch(url, ROLLUP_ESTIMATED.format(level=level)), 7)
        assert rollup == raw, level


def sampled(spans: list[Span]) -> list[Span]:
    """The spans as the sample step leaves them at rate 0.3 (and some at 0.1 twice over)."""
    weights = [None, 1 / 0.3, None, 10.0, 1 / 0.3 * 1 / 0.1]
    return [
        span if weights[i % 5] is None
        else replace(span, attributes={**span.attributes, "llmobs.sample_weight": weights[i % 5]})
        for i, span in enumerate(spans)
    ]  # fmt: skip


async def test_estimated_totals_weigh_sampled_calls(backend_url: str) -> None:
    spans = sampled(generate_spans(1500, seed=5))
    await write_batches(backend_url, spans[:700], batch_size=350)
    refresh_if_timescale(backend_url)
    await write_batches(backend_url, spans, batch_size=400)  # late and redelivered spans too
    refresh_if_timescale(backend_url)
    [(weights,)] = fetch(backend_url, "SELECT count(DISTINCT sample_weight) FROM spans")
    assert weights == 3
    assert_usage_equals_raw(backend_url)  # stored calls, counted exactly as before
    assert_estimated_equals_raw(backend_url)
    [(estimated, stored)] = fetch(
        backend_url, "SELECT sum(requests), (SELECT count(*) FROM spans WHERE llm_is_counted)"
        " FROM usage_estimated_1d",
    )  # fmt: skip
    assert estimated > stored
