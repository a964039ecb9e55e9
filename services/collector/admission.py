"""Admission control: the bytes of requests received and not yet answered stay under a bound,
and admitted requests are worked on one at a time.

A request that would take the bytes held past the bound is refused at once (HTTP 429 / gRPC
RESOURCE_EXHAUSTED with a retry delay) instead of waiting in memory: the exporter retries it
later. One request alone is always admitted, so any request under the size limit gets through an
idle collector.

Admitted requests wait for their turn as the bytes they arrived as. Parsing, the pipeline and
the hand-off of one request happen in its turn, so decoded spans (several times the size of
their protobuf) exist for one request at a time. Without turns, a request awaiting its hand-off
let the next one start, and under overload dozens of requests sat decoded at once (510 MB of
collector RSS with 64 exporters against a 64 MiB byte bound); turns also answer requests in the
order they were admitted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from prometheus_client import Gauge

from shared.errors import ThrottledError

RETRY_AFTER_SECONDS = 1


class Reservation:
    """The bytes one request holds; grows as its body is read and decompressed."""

    def __init__(self, budget: InflightBytes) -> None:
        self._budget = budget
        self.held_bytes = 0

    def grow_to(self, total_bytes: int) -> None:
        """Hold `total_bytes` in all; raise ThrottledError if that takes the budget over."""
        if total_bytes > self.held_bytes:
            self._budget.take(total_bytes - self.held_bytes, alone=self.held_bytes == 0)
            self.held_bytes = total_bytes


class InflightBytes:
    """A byte budget shared by every request of both transports."""

    def __init__(self, max_bytes: int, gauge: Gauge | None = None) -> None:
        self.max_bytes = max_bytes
        self.used_bytes = 0
        self._requests = 0
        self._gauge = gauge
        self._turn = asyncio.Lock()  # first come, first served

    @contextmanager
    def reserve(self, initial_bytes: int = 0) -> Iterator[Reservation]:
        """Hold bytes for one request until it is answered."""
        reservation = Reservation(self)
        self._requests += 1
        try:
            reservation.grow_to(initial_bytes)
            yield reservation
        finally:
            self._requests -= 1
            self._set(self.used_bytes - reservation.held_bytes)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait until no other admitted request is being parsed, processed or handed off."""
        async with self._turn:
            yield

    def take(self, more_bytes: int, alone: bool) -> None:
        """Add bytes to the total, unless that goes over the bound while other requests hold
        some (`alone`: the caller holds nothing yet and is the only request in flight)."""
        is_only_request = alone and self._requests == 1
        if self.used_bytes + more_bytes > self.max_bytes and not is_only_request:
            raise ThrottledError(
                "the collector is busy: too many request bytes waiting to be processed;"
                f" retry after {RETRY_AFTER_SECONDS}s",
                RETRY_AFTER_SECONDS,
            )
        self._set(self.used_bytes + more_bytes)

    def _set(self, used_bytes: int) -> None:
        self.used_bytes = used_bytes
        if self._gauge is not None:
            self._gauge.set(used_bytes)
