"""Serving declared endpoints: authenticate, rate-limit, validate, cache, then the handler."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from services.api.bodies import parse_body
from services.api.cache import cache_key
from services.api.context import AUTH, CACHE, CONFIG, LIMITER
from services.api.spec import Call, Endpoint, parse_args
from services.api.timerange import STEPS, resolve_range, snap_range
from shared.errors import BadInputError

MAX_BODY_BYTES = 64 * 1024


def add_endpoints(app: web.Application, endpoints: Sequence[Endpoint]) -> None:
    """Route every endpoint through the same checks."""
    for endpoint in endpoints:
        app.router.add_route(endpoint.method, endpoint.path, _serve(endpoint))


def _serve(endpoint: Endpoint) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        principal = await request.app[AUTH].authenticate(request, endpoint.scope)
        headers = await request.app[LIMITER].admit(principal)
        args = parse_args(endpoint, request.query, request.match_info)
        body = None
        if endpoint.body is not None:
            body = parse_body(endpoint.body, await _read_body(request))
        call = Call(request, args, principal, body)
        if endpoint.cache_interval is None:
            response = await endpoint.handler(call)
        else:
            response = await _cached(call, endpoint)
        response.headers.update(headers)
        return response

    return handle


async def _cached(call: Call, endpoint: Endpoint) -> web.StreamResponse:
    """Answer from the cache: the range snapped to whole buckets is part of the key."""
    config = call.request.app[CONFIG]
    now = datetime.now(UTC)
    width = endpoint.cache_interval or "1m"
    step = STEPS[width if width in STEPS else call.args.get(width) or "1m"]
    start_arg, end_arg = endpoint.range_args
    start, end = resolve_range(
        call.args.get(start_arg), call.args.get(end_arg), now, endpoint.default_span
    )
    call.args[start_arg], call.args[end_arg] = snap_range(start, end, step)
    is_closed = call.args[end_arg] <= now - timedelta(seconds=config.cache_settle_seconds)
    ttl = config.cache_closed_ttl_seconds if is_closed else config.cache_open_ttl_seconds
    key = cache_key(call.project_id, endpoint.operation_id, call.args)

    async def compute() -> bytes:
        response = await endpoint.handler(call)
        assert isinstance(response, web.Response) and isinstance(response.body, bytes)
        return response.body

    body, result = await call.request.app[CACHE].fetch(key, ttl, compute)
    return web.Response(body=body, content_type="application/json", headers={"X-Cache": result})


async def _read_body(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BadInputError(f"the request body is larger than {MAX_BODY_BYTES} bytes")
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise BadInputError(f"the request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise BadInputError("the request body is not JSON") from exc


def json_reply(body: Any, status: int = 200) -> web.Response:
    """A JSON answer, serialised once (orjson: datetimes as RFC 3339)."""
    return web.Response(
        body=orjson.dumps(body, option=orjson.OPT_UTC_Z, default=_default),
        status=status, content_type="application/json",
    )  # fmt: skip


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    raise TypeError(type(value).__name__)
