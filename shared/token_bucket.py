"""Token buckets in Redis: one atomic Lua call takes from several buckets or from none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as redis
from redis.exceptions import RedisError

from shared.errors import UnavailableError

# Integer arithmetic in milli-tokens on Redis's clock (TIME), so that every collector sees one
# time. A rate of R tokens per second refills R milli-tokens per millisecond. A bucket that is
# absent is full; a bucket expires once it would be full again, so idle buckets cost nothing.
# A cost above the capacity is admitted from a full bucket and leaves it in debt, which later
# requests wait out: a large batch is slowed down, never refused forever.
# KEYS: the buckets. ARGV: rate, capacity, cost for each bucket, in tokens.
# Returns {1, 0, 0, whole tokens left in the lowest bucket} when taken from all, else
# {0, wait in ms, index of the slowest bucket, 0}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local levels = {}
local wait, slowest = 0, 0
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[3 * i - 2])
  local capacity = tonumber(ARGV[3 * i - 1]) * 1000
  local cost = tonumber(ARGV[3 * i]) * 1000
  local state = redis.call('HMGET', key, 'level', 'at')
  local level = capacity
  if state[1] then
    local elapsed = math.max(0, now - tonumber(state[2]))
    level = math.min(capacity, tonumber(state[1]) + elapsed * rate)
  end
  levels[i] = level
  local need = math.min(cost, capacity)
  if level < need then
    local ms = math.ceil((need - level) / rate)
    if ms > wait then wait, slowest = ms, i end
  end
end
if slowest > 0 then return {0, wait, slowest, 0} end
local lowest = nil
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[3 * i - 2])
  local capacity = tonumber(ARGV[3 * i - 1]) * 1000
  local level = levels[i] - tonumber(ARGV[3 * i]) * 1000
  redis.call('HSET', key, 'level', string.format('%d', level), 'at', string.format('%d', now))
  redis.call('PEXPIRE', key, math.ceil((capacity - level) / rate) + 1000)
  if lowest == nil or level < lowest then lowest = level end
end
return {1, 0, 0, math.max(0, math.floor(lowest / 1000))}
"""


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bucket: refilled at `rate_per_second` up to `capacity`; this request costs `cost`."""

    key: str
    rate_per_second: int
    capacity: int
    cost: int


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether the tokens were taken; if not, how long to wait and which bucket refused."""

    is_allowed: bool
    retry_after_ms: int = 0
    refused_by: Bucket | None = None
    # Whole tokens left, after this take, in the bucket that has the fewest.
    remaining: int = 0

    @property
    def retry_after_seconds(self) -> int:
        """The wait rounded up to whole seconds (Retry-After), at least 1."""
        return max(1, -(-self.retry_after_ms // 1000))


class TokenBuckets:
    """Takes tokens from buckets held in Redis; all of them or none."""

    def __init__(self, client: redis.Redis) -> None:
        self._script = client.register_script(_TAKE)

    async def take(self, buckets: Sequence[Bucket]) -> Decision:
        """Take each bucket's cost if every bucket has it; UnavailableError if Redis fails."""
        if not buckets:
            return Decision(True)
        args: list[int] = []
        for bucket in buckets:
            if bucket.rate_per_second < 1 or bucket.capacity < 1 or bucket.cost < 0:
                raise ValueError(f"bucket {bucket.key}: rate and capacity must be positive")
            args.extend((bucket.rate_per_second, bucket.capacity, bucket.cost))
        try:
            allowed, wait_ms, index, remaining = await self._script(
                keys=[bucket.key for bucket in buckets], args=args
            )
        except (RedisError, OSError) as exc:
            raise UnavailableError("the rate limiter is unavailable", 1) from exc
        if allowed:
            return Decision(True, remaining=int(remaining))
        return Decision(False, int(wait_ms), buckets[int(index) - 1])
