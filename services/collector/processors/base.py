"""The processor contract: a pure function from a batch of spans to a batch of spans."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shared.span import Span

Processor = Callable[[Sequence[Span]], list[Span]]
