"""Per-key rate limits: a token bucket in Redis per caller (shared/token_bucket.py: one atomic
Lua call, integer milli-tokens on Redis's clock)."""

from __future__ import annotations

import logging
import time

import redis.asyncio as redis

from services.api.auth import Principal
from services.api.metrics import ApiMetrics
from shared.errors import ThrottledError, UnavailableError
from shared.token_bucket import Bucket, TokenBuckets

log = logging.getLogger(__name__)

PREFIX = "llmobs:api:ratelimit"


class RateLimitedError(ThrottledError):
    """Over the caller's request rate (HTTP 429) with its RateLimit headers."""

    def __init__(self, message: str, retry_after_seconds: int, headers: dict[str, str]) -> None:
        super().__init__(message, retry_after_seconds)
        self.headers = headers


class RateLimiter:
    """`requests` per `window_seconds` per key; 0 requests disables it.

    A request costs `window_seconds` tokens of a bucket holding `requests x window_seconds`
    and refilled `requests` per second: exactly `requests` per window in integers, whatever
    the two numbers. A Redis failure admits the request (fail open) and is counted: a limiter
    fault must not become an outage of reads that PostgreSQL can still answer.
    """

    def __init__(
        self, client: redis.Redis, metrics: ApiMetrics, requests: int, window_seconds: int,
        retry_seconds: float = 5.0,
    ) -> None:  # fmt: skip
        self._buckets = TokenBuckets(client)
        self._metrics = metrics
        self._requests = requests
        self._window = window_seconds
        self._policy = f"{requests};w={window_seconds}"
        self._retry_seconds = retry_seconds
        self._skip_until = 0.0

    async def admit(self, principal: Principal) -> dict[str, str]:
        """The RateLimit headers of an admitted request; RateLimitedError when over the rate."""
        if not self._requests or time.monotonic() < self._skip_until:
            return {}
        capacity = self._requests * self._window
        bucket = Bucket(f"{PREFIX}:{{{principal.rate_key}}}", self._requests, capacity,
                        self._window)  # fmt: skip
        try:
            decision = await self._buckets.take([bucket])
        except UnavailableError as exc:
            self._metrics.rate_limit_errors.inc()
            log.warning("rate limiter unavailable; admitting", extra={"error": str(exc.__cause__)})
            self._skip_until = time.monotonic() + self._retry_seconds
            return {}
        remaining = decision.remaining // self._window if decision.is_allowed else 0
        full_in = -(-(capacity - decision.remaining) // self._requests)
        headers = {
            "RateLimit-Limit": str(self._requests),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(
                full_in if decision.is_allowed else decision.retry_after_seconds
            ),
            "RateLimit-Policy": self._policy,
        }
        if decision.is_allowed:
            return headers
        self._metrics.rate_limited.inc()
        raise RateLimitedError(
            f"over the rate limit of {self._requests} requests per {self._window} s; "
            f"retry in {decision.retry_after_seconds} s",
            decision.retry_after_seconds, headers,
        )  # fmt: skip
