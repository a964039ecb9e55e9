"""Micro-batching: gather stream entries until a span count or a time bound is reached."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from services.storage.consume import Entry, StreamConsumer
from shared.handoff import entry_span_count


@dataclass(slots=True)
class PendingBatch:
    """Entries gathered for one write, with the number of spans they carry."""

    entries: list[Entry] = field(default_factory=list)
    span_count: int = 0

    def add(self, entries: list[Entry]) -> None:
        """Add entries and count their spans from the entry headers."""
        for entry in entries:
            self.entries.append(entry)
            if entry.fields:
                self.span_count += entry_span_count(entry.fields)


async def collect_batch(
    consumer: StreamConsumer,
    max_batch_spans: int,
    flush_interval_ms: int,
    idle_block_ms: int = 1000,
) -> PendingBatch:
    """Return entries once `max_batch_spans` is reached or `flush_interval_ms` has passed since
    the first entry; an empty batch after `idle_block_ms` with nothing to read."""
    batch = PendingBatch()
    deadline: float | None = None
    while batch.span_count < max_batch_spans:
        if deadline is None:
            block_ms = idle_block_ms
        else:
            block_ms = int((deadline - time.monotonic()) * 1000)
            if block_ms <= 0:
                break
        entries = await consumer.read(count=64, block_ms=max(block_ms, 1))
        if not entries:
            if deadline is None:
                break
            continue
        if deadline is None:
            deadline = time.monotonic() + flush_interval_ms / 1000
        batch.add(entries)
    return batch
