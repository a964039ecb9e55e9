"""The lookup cache: fresh within the TTL, stale only while the source is down, bounded."""

from __future__ import annotations

import pytest

from shared.errors import UnavailableError
from shared.ttl_cache import HIT, MISS, STALE, CachedLookup


class Source:
    """A source whose answers and availability the test sets."""

    def __init__(self) -> None:
        self.values: dict[str, str | None] = {}
        self.is_down = False
        self.calls = 0

    async def load(self, key: str) -> str | None:
        self.calls += 1
        if self.is_down:
            raise UnavailableError("down")
        return self.values.get(key)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_cache(source: Source, clock: Clock, **options: float) -> CachedLookup[str, str | None]:
    settings = {"ttl_seconds": 60.0, "max_stale_seconds": 600.0, "retry_seconds": 5.0, **options}
    return CachedLookup(source.load, clock=clock, **settings)


async def test_fresh_values_and_absences_are_served_from_the_cache() -> None:
    source, clock = Source(), Clock()
    cache = make_cache(source, clock)
    source.values["k"] = "v"
    assert await cache.get("k") == ("v", MISS)
    assert await cache.get("missing") == (None, MISS)
    source.values["k"] = "changed"
    clock.now += 59
    assert await cache.get("k") == ("v", HIT)
    assert await cache.get("missing") == (None, HIT)
    assert source.calls == 2
    clock.now += 1
    assert await cache.get("k") == ("changed", MISS)


async def test_an_outage_serves_stale_values_within_the_limit_and_retries_sparingly() -> None:
    source, clock = Source(), Clock()
    cache = make_cache(source, clock)
    source.values["k"] = "v"
    await cache.get("k")
    source.is_down = True
    clock.now += 61
    assert await cache.get("k") == ("v", STALE)
    calls = source.calls
    clock.now += 4
    assert await cache.get("k") == ("v", STALE)
    assert source.calls == calls  # within retry_seconds: the source is not asked again
    clock.now += 1
    assert await cache.get("k") == ("v", STALE)
    assert source.calls == calls + 1
    with pytest.raises(UnavailableError):
        await cache.get("never-seen")
    clock.now += 600
    with pytest.raises(UnavailableError):
        await cache.get("k")
    source.is_down = False
    assert await cache.get("k") == ("v", MISS)


async def test_the_oldest_entries_make_room() -> None:
    source, clock = Source(), Clock()
    cache = make_cache(source, clock, max_entries=2)
    for key in ("a", "b", "c"):
        await cache.get(key)
    calls = source.calls
    await cache.get("c")
    await cache.get("b")
    assert source.calls == calls
    await cache.get("a")
    assert source.calls == calls + 1
