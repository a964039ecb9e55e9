"""Per-key rate limits: a token bucket in Redis per caller, taken by one atomic Lua call."""

from __future__ import annotations

import logging
import time

import redis.asyncio as redis
from redis.exceptions import RedisError

from services.api.auth import Principal
from services.api.metrics import ApiMetrics
from shared.errors import ThrottledError

log = logging.getLogger(__name__)

# Integer arithmetic on Redis's clock: a request costs `cost` units (the window in ms), the
# bucket holds `capacity` units (requests x window ms) and refills `refill` units per ms
# (requests), so that `requests` per `window` is exact without fractions. An absent bucket is
# full; a bucket expires once it would be full again. Returns {allowed, level, wait_ms}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = capacity
if state[1] then
  level = math.min(capacity, tonumber(state[1]) + math.max(0, now - tonumber(state[2])) * refill)
end
if level < cost then
  return {0, level, math.ceil((cost - level) / refill)}
end
level = level - cost
redis.call('HSET', KEYS[1], 'level', string.format('%d', level), 'at', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - level) / refill) + 1000)
return {1, level, 0}
"""
PREFIX = "llmobs:api:ratelimit"


class RateLimitedError(ThrottledError):
    """Over the caller's request rate (HTTP 429) with its RateLimit headers."""

    def __init__(self, message: str, retry_after_seconds: int, headers: dict[str, str]) -> None:
        super().__init__(message, retry_after_seconds)
        self.headers = headers


class RateLimiter:
    """`requests` per `window_seconds` per key; 0 requests disables it.

    A Redis failure admits the request (fail open) and is counted: a limiter fault must not
    become an outage of reads that PostgreSQL can still answer.
    """

    def __init__(
        self, client: redis.Redis, metrics: ApiMetrics, requests: int, window_seconds: int,
        retry_seconds: float = 5.0,
    ) -> None:  # fmt: skip
        self._script = client.register_script(_TAKE)
        self._metrics = metrics
        self._requests = requests
        self._window_ms = window_seconds * 1000
        self._policy = f"{requests};w={window_seconds}"
        self._retry_seconds = retry_seconds
        self._skip_until = 0.0

    async def admit(self, principal: Principal) -> dict[str, str]:
        """The RateLimit headers of an admitted request; RateLimitedError when over the rate."""
        if not self._requests or time.monotonic() < self._skip_until:
            return {}
        capacity = self._requests * self._window_ms
        try:
            allowed, level, wait_ms = await self._script(
                keys=[f"{PREFIX}:{{{principal.rate_key}}}"],
                args=[capacity, self._requests, self._window_ms],
            )
        except (RedisError, OSError) as exc:
            self._metrics.rate_limit_errors.inc()
            log.warning("rate limiter unavailable; admitting", extra={"error": repr(exc)})
            self._skip_until = time.monotonic() + self._retry_seconds
            return {}
        refill_ms = -(-(capacity - int(level)) // self._requests)
        headers = {
            "RateLimit-Limit": str(self._requests),
            "RateLimit-Remaining": str(int(level) // self._window_ms),
            "RateLimit-Reset": str(-(-refill_ms // 1000)),
            "RateLimit-Policy": self._policy,
        }
        if allowed:
            return headers
        self._metrics.rate_limited.inc()
        retry_after = max(1, -(-int(wait_ms) // 1000))
        raise RateLimitedError(
            f"over the rate limit of {self._requests} requests per "
            f"{self._window_ms // 1000} s; retry in {retry_after} s",
            retry_after, headers,
        )  # fmt: skip
