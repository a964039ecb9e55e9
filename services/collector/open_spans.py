"""REST spans between start and completion, held in Redis per project with a TTL (ADR 0007)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis.asyncio as redis
from redis.exceptions import RedisError

from services.collector.rest_spans import OpenSpan
from shared.errors import UnavailableError

# Open a trace: its record and its root span, unless the trace exists (then: its root span id).
_OPEN_TRACE = """
if redis.call('HSETNX', KEYS[1], 'root', ARGV[1]) == 0 then
  return redis.call('HGET', KEYS[1], 'root')
end
redis.call('HSET', KEYS[1], 'root_span', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], 'start', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return false
"""
# Open a span unless its id exists (then: what it holds, to tell a retry from a clash).
_OPEN_SPAN = """
if redis.call('HSETNX', KEYS[1], 'start', ARGV[1]) == 0 then
  return redis.call('HGET', KEYS[1], 'start')
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return false
"""
# The first completion wins; every caller gets the span, the winning completion, and whether
# the finished span was already handed off.
_COMPLETE = """
local start = redis.call('HGET', KEYS[1], 'start')
if not start then return false end
redis.call('HSETNX', KEYS[1], 'completion', ARGV[1])
return {start, redis.call('HGET', KEYS[1], 'completion'), redis.call('HEXISTS', KEYS[1], 'emitted')}
"""
# Only a span still held is marked: HSET on an expired key would recreate it without a TTL.
_MARK_EMITTED = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'emitted', '1') end
return 1
"""


@dataclass(frozen=True, slots=True)
class Claimed:
    """A span with the completion that won, and whether it has been handed off already."""

    span: OpenSpan
    completion: bytes
    is_emitted: bool


class OpenSpans:
    """Open traces and spans of each project, keyed so one project never sees another's."""

    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self._client = client
        self._ttl_seconds = ttl_seconds
        self._open_trace = client.register_script(_OPEN_TRACE)
        self._open_span = client.register_script(_OPEN_SPAN)
        self._complete = client.register_script(_COMPLETE)
        self._mark_emitted = client.register_script(_MARK_EMITTED)

    async def open_trace(self, project_id: str, root: OpenSpan) -> str | None:
        """Open the trace with its root span; None if new, else the existing root span id."""
        keys = [_trace_key(project_id, root.trace_id), _span_key(project_id, root.span_id)]
        with _translated():
            found = await self._open_trace(
                keys=keys, args=[root.span_id, root.to_json(), self._ttl_seconds]
            )
        return None if found is None else bytes(found).decode()

    async def root_of(self, project_id: str, trace_id: str) -> OpenSpan | None:
        """The root span of an open trace, None if there is no such trace (or it expired)."""
        with _translated():
            data = await self._client.hget(_trace_key(project_id, trace_id), "root_span")
        return None if data is None else OpenSpan.from_json(data)

    async def open_span(self, project_id: str, span: OpenSpan) -> OpenSpan | None:
        """Open a span; None if new, else the span already stored under its id."""
        with _translated():
            found = await self._open_span(
                keys=[_span_key(project_id, span.span_id)],
                args=[span.to_json(), self._ttl_seconds],
            )
        return None if found is None else OpenSpan.from_json(bytes(found))

    async def get(self, project_id: str, span_id: str) -> tuple[OpenSpan, bool] | None:
        """The open span and whether it was completed and handed off; None if unknown."""
        with _translated():
            start, emitted = await self._client.hmget(
                _span_key(project_id, span_id), ["start", "emitted"]
            )
        return None if start is None else (OpenSpan.from_json(start), emitted is not None)

    async def claim_completion(
        self, project_id: str, span_id: str, completion: bytes
    ) -> Claimed | None:
        """Record the completion unless one exists; None if the span is unknown."""
        with _translated():
            found = await self._complete(keys=[_span_key(project_id, span_id)], args=[completion])
        if found is None:
            return None
        start, winner, emitted = found
        return Claimed(OpenSpan.from_json(bytes(start)), bytes(winner), bool(emitted))

    async def mark_emitted(self, project_id: str, span_id: str) -> None:
        """Remember that the finished span is in the hand-off (repeats answer without emitting)."""
        with _translated():
            await self._mark_emitted(keys=[_span_key(project_id, span_id)])


@contextmanager
def _translated() -> Iterator[None]:
    """Redis failures become UnavailableError (503, retryable)."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise UnavailableError("the open span store is unavailable; retry later", 5) from exc


def _trace_key(project_id: str, trace_id: str) -> str:
    return f"llmobs:rest:{{{project_id}}}:trace:{trace_id}"


def _span_key(project_id: str, span_id: str) -> str:
    return f"llmobs:rest:{{{project_id}}}:span:{span_id}"
