"""`/v1/metrics/usage` and `/v1/metrics/latency`: LLM call aggregates per interval and group."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.api import analytics
from services.api.filters import RANGE
from services.api.routing import json_reply
from services.api.schemas import DECIMAL, INSTANT, INTEGER, STRING, nullable, obj
from services.api.serialize import decimal_text, iso
from services.api.spec import Call, Endpoint
from services.api.timerange import check_buckets

USAGE_FIELDS = (
    "requests", "errors", "input_tokens", "output_tokens", "cache_read_tokens",
    "cache_write_tokens", "reasoning_tokens", "unpriced_requests",
)  # fmt: skip
LATENCY_FIELDS = (
    "duration_p50_ms", "duration_p95_ms", "duration_p99_ms",
    "ttft_p50_ms", "ttft_p95_ms", "ttft_p99_ms",
)  # fmt: skip


def window_of(call: Call) -> tuple[analytics.Window, tuple[str, ...]]:
    """The snapped range, interval and de-duplicated grouping of a metrics call."""
    interval = call.args["interval"]
    window = analytics.Window(call.args["from"], call.args["to"], interval)
    check_buckets(window.start, window.end, interval)
    return window, tuple(dict.fromkeys(call.args["group_by"]))


def envelope(
    window: analytics.Window, group_by: tuple[str, ...], source: str, data: list[Any]
) -> dict[str, Any]:
    """The common head of an aggregate answer."""
    return {
        "interval": window.interval, "from": iso(window.start), "to": iso(window.end),
        "group_by": list(group_by), "source": source, "data": data,
    }  # fmt: skip


async def get_usage(call: Call) -> web.StreamResponse:
    """Requests, errors, tokens by kind and cost per bucket and group."""
    window, group_by = window_of(call)
    source, rows = await analytics.usage(call, window, group_by)
    data = [
        {
            "bucket_start": iso(row["bucket_start"]),
            "group": {key: row[key] for key in group_by},
            **{name: row[name] for name in USAGE_FIELDS},
            "cost_usd": decimal_text(row["cost_usd"]),
        }
        for row in rows
    ]
    return json_reply(envelope(window, group_by, source, data))


async def get_latency(call: Call) -> web.StreamResponse:
    """p50/p95/p99 of duration and time to first token per bucket and group."""
    window, group_by = window_of(call)
    source, rows = await analytics.latency(call, window, group_by)
    data = [
        {
            "bucket_start": iso(row["bucket_start"]),
            "group": {key: row[key] for key in group_by},
            "requests": row["requests"],
            "ttft_count": row["ttft_count"],
            **{name: row[name] for name in LATENCY_FIELDS},
        }
        for row in rows
    ]
    return json_reply(envelope(window, group_by, source, data))


def _answer(row: dict[str, Any]) -> dict[str, Any]:
    return obj({
        "interval": STRING, "from": INSTANT, "to": INSTANT,
        "group_by": {"type": "array", "items": STRING}, "source": STRING,
        "data": {"type": "array", "items": obj({
            "bucket_start": INSTANT, "group": {"type": "object"}, **row,
        })},
    })  # fmt: skip


PARAMS = (*RANGE, analytics.INTERVAL, analytics.GROUP_BY, *analytics.FILTERS)
ENDPOINTS = (
    Endpoint(
        "GET", "/v1/metrics/usage", "getUsage",
        "Requests, errors, tokens by kind and cost per interval and group.", "analytics",
        get_usage, params=PARAMS, cache_interval="interval",
        response=_answer({**{n: INTEGER for n in USAGE_FIELDS}, "cost_usd": DECIMAL}),
    ),
    Endpoint(
        "GET", "/v1/metrics/latency", "getLatency",
        "p50/p95/p99 of duration and time to first token per interval and group.", "analytics",
        get_latency, params=PARAMS, cache_interval="interval",
        response=_answer({
            "requests": INTEGER, "ttft_count": INTEGER,
            **{n: nullable("number") for n in LATENCY_FIELDS},
        }),
    ),
)  # fmt: skip
