"""Leased token buckets in Redis: acquire from all buckets or none, then adjust or release.

The sibling of token_bucket.py (ingest quotas) for LLM usage limits: a reservation is held in a
lease until the call's actual usage is known; adjusting may leave a bucket in debt (negative),
which the next acquire waits out. Arithmetic is in integer milli-units on Redis's clock (TIME):
a limit of L units per W seconds refills exactly L milli-units per W milliseconds; the
remainder of the division is carried in the bucket (`rem`), so refill never drifts. An absent
bucket is full, and a bucket expires once it would be full again. See ADR 0010.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis.asyncio as redis
from redis.exceptions import RedisError

from shared.errors import UnavailableError
from shared.usage_limits import BucketSpec

# Shared by every script. refill(): the level and remainder of a bucket at `now` (ms). With
# elapsed = q*W + r: added = q*L + floor((r*L + rem) / W), every product below 2^53 for
# L <= 1e9 and W <= 86400 (Lua numbers are doubles). store() writes a bucket and its expiry.
_COMMON = """
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function refill(key, limit, window, capacity, now)
  local s = redis.call('HMGET', key, 'level', 'at', 'rem')
  if not s[1] then return capacity, 0 end
  local level, rem = tonumber(s[1]), tonumber(s[3] or '0')
  local elapsed = math.max(0, now - tonumber(s[2]))
  local q = math.floor(elapsed / window)
  local r = elapsed - q * window
  if q * limit >= capacity - level then return capacity, 0 end
  local part = r * limit + rem
  local added = q * limit + math.floor(part / window)
  rem = part % window
  if level + added >= capacity then return capacity, 0 end
  return level + added, rem
end
local function wait_for(level, rem, need, limit, window)
  if level >= need then return 0 end
  local deficit = need - level
  local a = math.floor(deficit / limit)
  local b = deficit - a * limit
  return math.max(0, a * window + math.ceil((b * window - rem) / limit))
end
local function store(key, level, rem, now, limit, window, capacity)
  redis.call('HSET', key, 'level', string.format('%d', level), 'at', string.format('%d', now),
             'rem', string.format('%d', rem))
  local full_in = wait_for(level, rem, capacity, limit, window)
  redis.call('PEXPIRE', key, full_in + 1000)
end
"""

# KEYS: n buckets, then the lease. ARGV: lease ttl ms, the buckets' units joined by spaces,
# then limit, window, capacity, cost for each bucket (milli-units). A bucket passes if it holds
# its cost (a cost above capacity passes from a full bucket, into debt); one in debt refuses
# even a zero cost. Returns {granted, now, level, wait, ...}: the levels after
# the take when granted, else as found.
_ACQUIRE = (
    _COMMON
    + """
local n = #KEYS - 1
local now = clock()
local UNITS = {}
for unit in string.gmatch(ARGV[2], '%S+') do UNITS[#UNITS + 1] = unit end
local found, rems, out = {}, {}, {0, now}
local granted = 1
for i = 1, n do
  local limit, window = tonumber(ARGV[4 * i - 1]), tonumber(ARGV[4 * i])
  local capacity, cost = tonumber(ARGV[4 * i + 1]), tonumber(ARGV[4 * i + 2])
  local level, rem = refill(KEYS[i], limit, window, capacity, now)
  found[i], rems[i] = level, rem
  local wait = wait_for(level, rem, math.min(cost, capacity), limit, window)
  if wait > 0 or level < 0 then granted = 0 end
  out[2 * i + 1], out[2 * i + 2] = level, wait
end
if granted == 0 then return out end
out[1] = 1
local lines = {}
for i = 1, n do
  local limit, window = tonumber(ARGV[4 * i - 1]), tonumber(ARGV[4 * i])
  local capacity, cost = tonumber(ARGV[4 * i + 1]), tonumber(ARGV[4 * i + 2])
  local level = found[i] - cost
  if cost > 0 then store(KEYS[i], level, rems[i], now, limit, window, capacity) end
  out[2 * i + 1] = level
  lines[i] = KEYS[i] .. ' ' .. UNITS[i] .. ' ' .. ARGV[4 * i - 1] .. ' ' ..
             ARGV[4 * i] .. ' ' .. ARGV[4 * i + 1] .. ' ' .. ARGV[4 * i + 2]
end
redis.call('SET', KEYS[n + 1], table.concat(lines, '\\n'), 'PX', tonumber(ARGV[1]))
return out
"""
)

# KEYS: the lease. ARGV: pairs of unit and actual cost; the unit `*` names every unit. Applies
# actual - reserved to each bucket of a named unit (debt allowed, never above capacity); the
# others keep their reservation. Ends the lease. Returns {0} for an unknown lease, else
# {1, now, level, ...}. The buckets' keys are read from the lease: they share its hash slot.
_SETTLE = (
    _COMMON
    + """
local lease = redis.call('GET', KEYS[1])
if not lease then return {0} end
local now = clock()
local out = {1, now}
local actuals = {}
for j = 1, #ARGV, 2 do actuals[ARGV[j]] = tonumber(ARGV[j + 1]) end
local i = 0
for line in string.gmatch(lease, '[^\\n]+') do
  i = i + 1
  local key, unit, limit, window, capacity, reserved =
    string.match(line, '(%S+) (%S+) (%S+) (%S+) (%S+) (%S+)')
  limit, window = tonumber(limit), tonumber(window)
  capacity, reserved = tonumber(capacity), tonumber(reserved)
  local actual = actuals[unit] or actuals['*'] or -1
  local level, rem = refill(key, limit, window, capacity, now)
  if actual >= 0 and actual ~= reserved then
    level = math.min(capacity, level - (actual - reserved))
    store(key, level, rem, now, limit, window, capacity)
  end
  out[i + 2] = level
end
redis.call('DEL', KEYS[1])
return out
"""
)

# KEYS: buckets. ARGV: limit, window, capacity, cost per bucket. Takes every cost
# unconditionally (observed usage: the call has happened). Returns {now, level, ...}.
_CHARGE = (
    _COMMON
    + """
local now = clock()
local out = {now}
for i, key in ipairs(KEYS) do
  local limit, window = tonumber(ARGV[4 * i - 3]), tonumber(ARGV[4 * i - 2])
  local capacity, cost = tonumber(ARGV[4 * i - 1]), tonumber(ARGV[4 * i])
  local level, rem = refill(key, limit, window, capacity, now)
  if cost > 0 then
    level = level - cost
    store(key, level, rem, now, limit, window, capacity)
  end
  out[i + 1] = level
end
return out
"""
)

# KEYS: buckets. ARGV: limit, window, capacity per bucket. Reads only: {now, level, rem, ...}.
_PEEK = (
    _COMMON
    + """
local now = clock()
local out = {now}
for i, key in ipairs(KEYS) do
  local level, rem = refill(key, tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]),
                            tonumber(ARGV[3 * i]), now)
  out[2 * i], out[2 * i + 1] = level, rem
end
return out
"""
)


@dataclass(frozen=True, slots=True)
class BucketState:
    """A bucket as a script saw it: level in milli-units (negative: debt) and the wait."""

    spec: BucketSpec
    level_milli: int
    retry_after_ms: int = 0
    cost_milli: int = 0
    rem: int = 0

    @property
    def is_passed(self) -> bool:
        """Whether this bucket would have admitted the cost."""
        return self.retry_after_ms == 0 and self.level_milli >= 0


@dataclass(frozen=True, slots=True)
class Acquired:
    """The outcome of an acquire: granted or not, every bucket's state, Redis's clock in ms."""

    is_granted: bool
    states: tuple[BucketState, ...]
    now_ms: int

    @property
    def retry_after_ms(self) -> int:
        """The wait of the tightest bucket (all must pass, so the longest wait)."""
        return max((state.retry_after_ms for state in self.states), default=0)


class LimitBuckets:
    """Acquire, adjust, release, charge and read leased buckets held in Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self._acquire = client.register_script(_ACQUIRE)
        self._settle = client.register_script(_SETTLE)
        self._charge = client.register_script(_CHARGE)
        self._peek = client.register_script(_PEEK)

    async def acquire(
        self, specs: Sequence[BucketSpec], costs_milli: Sequence[int], lease: str, ttl_ms: int
    ) -> Acquired:
        """Take every cost or none; when taken, record them under the lease key for `ttl_ms`."""
        args: list[int | str] = [ttl_ms, " ".join(spec.unit for spec in specs)]
        for spec, cost in zip(specs, costs_milli, strict=True):
            args.extend((spec.limit, spec.window_seconds, spec.capacity_milli, cost))
        reply = await self._call(self._acquire, [*(spec.key for spec in specs), lease], args)
        states = tuple(
            BucketState(spec, int(reply[2 * i + 2]), int(reply[2 * i + 3]), cost)
            for i, (spec, cost) in enumerate(zip(specs, costs_milli, strict=True))
        )
        return Acquired(bool(reply[0]), states, int(reply[1]))

    async def settle(self, lease: str, actual_milli: Mapping[str, int]) -> list[int] | None:
        """Apply the actual cost of each unit named (`*`: every unit; others keep their
        reservation) and end the lease; its buckets' levels, or None for a lease unknown or
        expired."""
        args: list[int | str] = []
        for unit, cost in actual_milli.items():
            args.extend((unit, cost))
        reply = await self._call(self._settle, [lease], args)
        return None if not reply[0] else [int(level) for level in reply[2:]]

    async def charge(self, specs: Sequence[BucketSpec], costs_milli: Sequence[int]) -> list[int]:
        """Take the costs unconditionally (usage already spent); the levels after."""
        args: list[int] = []
        for spec, cost in zip(specs, costs_milli, strict=True):
            args.extend((spec.limit, spec.window_seconds, spec.capacity_milli, cost))
        reply = await self._call(self._charge, [spec.key for spec in specs], args)
        return [int(level) for level in reply[1:]]

    async def peek(self, specs: Sequence[BucketSpec]) -> tuple[list[BucketState], int]:
        """Every bucket's state now, and Redis's clock in ms; nothing is written."""
        args: list[int] = []
        for spec in specs:
            args.extend((spec.limit, spec.window_seconds, spec.capacity_milli))
        reply = await self._call(self._peek, [spec.key for spec in specs], args)
        states = [
            BucketState(spec, int(reply[2 * i + 1]), rem=int(reply[2 * i + 2]))
            for i, spec in enumerate(specs)
        ]
        return states, int(reply[0])

    @staticmethod
    async def _call(script: object, keys: Sequence[str], args: Sequence[int | str]) -> list[int]:
        try:
            reply = await script(keys=list(keys), args=list(args))  # type: ignore[operator]
        except (RedisError, OSError) as exc:
            raise UnavailableError("the usage limiter is unavailable", 1) from exc
        return list(reply)
