"""A bounded in-memory cache in front of a database lookup, usable stale while it is down."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from shared.errors import UnavailableError

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# How a value was obtained, for metrics: from the cache, from the source, or stale in an outage.
HIT = "hit"
MISS = "miss"
STALE = "stale"


@dataclass(slots=True)
class _Entry(Generic[V]):
    value: V
    loaded_at: float
    # When to ask the source again: after the TTL, or after a failed refresh, a short while.
    refresh_at: float


class CachedLookup(Generic[K, V]):
    """Values (None included: "not found" is cached too) fresh for `ttl_seconds`.

    When a refresh fails with UnavailableError, an entry loaded up to `ttl_seconds +
    max_stale_seconds` ago is served instead, so an outage of the source does not stop callers
    it already knew; the source is then asked again only every `retry_seconds`, so that callers
    do not each wait for it. At most `max_entries` are held; the oldest stored goes first.
    """

    def __init__(
        self,
        load: Callable[[K], Awaitable[V]],
        ttl_seconds: float,
        max_stale_seconds: float,
        max_entries: int = 10_000,
        retry_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl_seconds = ttl_seconds
        self._max_stale_seconds = max_stale_seconds
        self._max_entries = max_entries
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._entries: dict[K, _Entry[V]] = {}

    async def get(self, key: K) -> tuple[V, str]:
        """The value and how it was obtained; UnavailableError when neither source can answer."""
        entry = self._entries.get(key)
        now = self._clock()
        if entry is not None and now < entry.refresh_at:
            return entry.value, HIT if now - entry.loaded_at < self._ttl_seconds else STALE
        try:
            value = await self._load(key)
        except UnavailableError:
            usable_seconds = self._ttl_seconds + self._max_stale_seconds
            if entry is None or now - entry.loaded_at >= usable_seconds:
                raise
            entry.refresh_at = now + self._retry_seconds
            return entry.value, STALE
        self.put(key, value)
        return value, MISS

    def put(self, key: K, value: V) -> None:
        """Store a value as fresh from now."""
        now = self._clock()
        self._entries.pop(key, None)
        self._entries[key] = _Entry(value, now, now + self._ttl_seconds)
        while len(self._entries) > self._max_entries:
            del self._entries[next(iter(self._entries))]
