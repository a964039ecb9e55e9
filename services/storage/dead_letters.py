"""The dead-letter stream: list the entries storage could not read, replay one to the stream."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis

from shared.errors import BadInputError

_ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
# Atomic: the entry leaves the dead-letter stream only if it reached the main stream.
_REPLAY = """
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entries == 0 then return false end
local fields = entries[1][2]
local kept = {}
for i = 1, #fields, 2 do
    if fields[i] ~= 'error' and fields[i] ~= 'source_id' then
        table.insert(kept, fields[i])
        table.insert(kept, fields[i + 1])
    end
end
if #kept == 0 then return redis.error_reply('dead letter holds no entry fields') end
local new_id = redis.call('XADD', KEYS[2], '*', unpack(kept))
redis.call('XDEL', KEYS[1], ARGV[1])
return new_id
"""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead-lettered entry: why it failed and what it carried (not the body itself)."""

    entry_id: str
    error: str
    source_id: str
    project: str | None
    signal: str | None
    span_count: int | None
    body_bytes: int

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `GET /dead-letters`."""
        return {
            "id": self.entry_id, "error": self.error, "source_id": self.source_id,
            "project": self.project, "signal": self.signal, "span_count": self.span_count,
            "body_bytes": self.body_bytes,
        }  # fmt: skip


def check_entry_id(entry_id: str) -> str:
    """Return `entry_id` if it is a stream entry id (`<ms>-<seq>`); raise BadInputError."""
    if not _ENTRY_ID.match(entry_id):
        raise BadInputError(f"{entry_id!r} is not a stream entry id (<milliseconds>-<sequence>)")
    return entry_id


async def list_dead_letters(
    client: redis.Redis, stream: str, after: str | None, count: int
) -> list[DeadLetter]:
    """Up to `count` dead letters, oldest first, after the entry id `after` (exclusive)."""
    start = "-" if after is None else f"({check_entry_id(after)}"
    entries: Any = await client.xrange(stream, min=start, max="+", count=count)
    return [_dead_letter(entry_id, fields) for entry_id, fields in entries]


async def replay_dead_letter(
    client: redis.Redis, dead_stream: str, stream: str, entry_id: str
) -> str | None:
    """Move a dead letter back to the main stream; return its new id, None if it is gone."""
    new_id: Any = await client.eval(_REPLAY, 2, dead_stream, stream, check_entry_id(entry_id))
    return _text(new_id) if new_id else None


def _dead_letter(entry_id: bytes, fields: dict[bytes, bytes]) -> DeadLetter:
    count = fields.get(b"count")
    project = fields.get(b"project")
    signal = fields.get(b"signal")
    return DeadLetter(
        entry_id=_text(entry_id),
        error=fields.get(b"error", b"").decode(errors="replace"),
        source_id=fields.get(b"source_id", b"").decode(errors="replace"),
        project=None if project is None else project.decode(errors="replace"),
        signal=None if signal is None else signal.decode(errors="replace"),
        span_count=int(count) if count is not None and count.isdigit() else None,
        body_bytes=len(fields.get(b"body", b"")),
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
