"""The hand-off to storage: one Redis Stream entry per accepted batch, refused when full."""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as redis
from prometheus_client import Gauge
from redis.exceptions import RedisError

from shared.errors import ThrottledError, UnavailableError
from shared.handoff import Record, encode_batch

# Check the bound and append in one atomic step, so concurrent collectors cannot overshoot it
# by more than one entry each. Returns {length} when the stream is full, else {length, id}.
_BOUNDED_XADD = """
local length = redis.call('XLEN', KEYS[1])
if length >= tonumber(ARGV[1]) then return {length} end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
return {length + 1, id}
"""


class StreamExporter:
    """Appends batches to the hand-off stream; success means Redis holds the batch."""

    def __init__(
        self, client: redis.Redis, stream: str, max_entries: int, depth: Gauge | None = None
    ) -> None:
        self._client = client
        self._stream = stream
        self._max_entries = max_entries
        self._script = client.register_script(_BOUNDED_XADD)
        # The backlog as seen at each hand-off (collector_handoff_stream_length).
        self._depth = depth

    async def hand_off(self, signal: str, project_id: str, records: Sequence[Record]) -> bytes:
        """Queue the batch; raise ThrottledError when full, UnavailableError when Redis is down."""
        fields = encode_batch(signal, project_id, records)
        args: list[bytes | int] = [self._max_entries]
        for key, value in fields.items():
            args.extend((key, value))
        try:
            reply = await self._script(keys=[self._stream], args=args)
        except (RedisError, OSError) as exc:
            raise UnavailableError("the hand-off queue is unavailable", 5) from exc
        if self._depth is not None:
            self._depth.set(int(reply[0]))
        if len(reply) < 2:
            raise ThrottledError("the hand-off queue is full; retry later", 2)
        return bytes(reply[1])

    async def backlog(self) -> int:
        """Entries waiting in the stream."""
        return int(await self._client.xlen(self._stream))
