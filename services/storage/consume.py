"""Reading the hand-off stream as one consumer of a consumer group, recovering stale entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from redis.exceptions import ResponseError

from shared.handoff import encode_batch

# Atomic, so that a consumer cannot receive entries between the check and the deletion (which
# would drop them from the pending list). A live consumer reads at least every second, so its
# idle time never grows past the threshold.
_DELETE_IDLE_CONSUMERS = """
local removed = {}
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
    local info = {}
    for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
    if info['pending'] == 0 and info['idle'] > tonumber(ARGV[2]) and info['name'] ~= ARGV[3] then
        redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
        table.insert(removed, info['name'])
    end
end
return removed
"""


@dataclass(frozen=True, slots=True)
class ConsumerInfo:
    """One consumer of the group, as XINFO CONSUMERS reports it."""

    name: str
    pending: int
    idle_ms: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry; `fields` is None when the entry was deleted before it was claimed."""

    entry_id: bytes
    fields: dict[bytes, bytes] | None


class StreamConsumer:
    """XREADGROUP / XAUTOCLAIM / XACK for one named consumer of the storage group."""

    def __init__(
        self,
        client: redis.Redis,
        stream: str,
        group: str,
        consumer: str,
        claim_idle_ms: int,
    ) -> None:
        self._client = client
        self._stream = stream
        self._group = group
        self._consumer = consumer
        self._claim_idle_ms = claim_idle_ms
        # Own pending entries are re-read first after a restart with the same name; the cursor
        # walks them once (a pending entry stays pending until acknowledged).
        self._pending_cursor: bytes | None = b"0"
        self._claim_cursor = b"0-0"

    async def ensure_group(self) -> None:
        """Create the stream and its group if missing, reading from the stream's beginning."""
        try:
            await self._client.xgroup_create(self._stream, self._group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read(self, count: int, block_ms: int) -> list[Entry]:
        """Return up to `count` entries: own pending ones first, then new ones (blocking)."""
        if self._pending_cursor is not None:
            entries = await self._read(self._pending_cursor, count, None)
            if entries:
                self._pending_cursor = entries[-1].entry_id
                return entries
            self._pending_cursor = None
        return await self._read(">", count, block_ms)

    async def _read(self, start: str | bytes, count: int, block_ms: int | None) -> list[Entry]:
        response: Any = await self._client.xreadgroup(
            self._group, self._consumer, {self._stream: start}, count=count, block=block_ms
        )
        if not response:
            return []
        _, messages = response[0]
        return [Entry(entry_id, fields or None) for entry_id, fields in messages]

    async def claim_stale(self, count: int) -> list[Entry]:
        """Take over entries another consumer left pending longer than the idle threshold."""
        response: Any = await self._client.xautoclaim(
            self._stream,
            self._group,
            self._consumer,
            min_idle_time=self._claim_idle_ms,
            start_id=self._claim_cursor,
            count=count,
        )
        self._claim_cursor = response[0]
        entries = [Entry(entry_id, fields or None) for entry_id, fields in response[1]]
        # Redis 7 also lists ids that were deleted while pending: acknowledge them away.
        deleted = response[2] if len(response) > 2 else []
        return entries + [Entry(entry_id, None) for entry_id in deleted]

    async def acknowledge(self, entry_ids: list[bytes]) -> None:
        """Acknowledge and delete entries whose data is committed (the stream holds the backlog)."""
        if not entry_ids:
            return
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.xack(self._stream, self._group, *entry_ids)
            pipe.xdel(self._stream, *entry_ids)
            await pipe.execute()

    async def dead_letter(self, dead_stream: str, entry: Entry, error: str) -> None:
        """Move an unreadable entry to the dead-letter stream with its error; acknowledge it."""
        fields = dict(entry.fields or {})
        fields[b"error"] = error.encode()
        fields[b"source_id"] = entry.entry_id
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.xadd(dead_stream, fields)  # type: ignore[arg-type]
            pipe.xack(self._stream, self._group, entry.entry_id)
            pipe.xdel(self._stream, entry.entry_id)
            await pipe.execute()

    async def dead_letter_records(
        self,
        dead_stream: str,
        signal: str,
        project_id: str,
        records: list[dict[str, Any]],
        error: str,
    ) -> None:
        """Park records the database refused in the dead-letter stream, in the hand-off format,
        with the error (their entry is acknowledged with the rest of its batch)."""
        fields = encode_batch(signal, project_id, records)
        fields[b"error"] = error.encode()
        await self._client.xadd(dead_stream, fields)  # type: ignore[arg-type]

    async def lag(self) -> tuple[int, int]:
        """Return (entries in the stream, entries pending acknowledgement) for the group."""
        length = await self._client.xlen(self._stream)
        pending: Any = await self._client.xpending(self._stream, self._group)
        return int(length), int(pending["pending"])

    async def consumers(self) -> list[ConsumerInfo]:
        """The group's consumers with their pending entries and idle time."""
        response: Any = await self._client.xinfo_consumers(self._stream, self._group)
        return [
            ConsumerInfo(_text(item["name"]), int(item["pending"]), int(item["idle"]))
            for item in response
        ]

    async def delete_idle_consumers(self, max_idle_ms: int) -> list[str]:
        """Delete consumers (never this one) with nothing pending, idle over `max_idle_ms`:
        restarts and hot reloads leave one behind each time under a new name."""
        removed: Any = await self._client.eval(
            _DELETE_IDLE_CONSUMERS, 1, self._stream, self._group, max_idle_ms, self._consumer
        )
        return [_text(name) for name in removed]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
