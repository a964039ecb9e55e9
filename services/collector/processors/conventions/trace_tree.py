"""The in-batch shape of one trace: parents, ancestor chains and depths, order-independent."""

from __future__ import annotations

from collections.abc import Sequence

from shared.span import Span


class TraceTree:
    """Parent links among the spans of one trace present in a batch."""

    def __init__(self, spans: Sequence[Span]) -> None:
        """Index spans by id; a repeated id keeps one span chosen independently of order."""
        self.by_id: dict[str, Span] = {}
        for span in sorted(spans, key=lambda s: (s.span_id, s.start_time_unix_nano, s.name)):
            self.by_id.setdefault(span.span_id, span)
        self._ancestors: dict[str, list[Span]] = {}

    def ancestors(self, span: Span) -> list[Span]:
        """The span's ancestors present in the batch, nearest first (stops at a gap or cycle)."""
        cached = self._ancestors.get(span.span_id)
        if cached is not None:
            return cached
        chain: list[Span] = []
        seen = {span.span_id}
        parent_id = span.parent_span_id
        while parent_id and parent_id not in seen and parent_id in self.by_id:
            parent = self.by_id[parent_id]
            chain.append(parent)
            seen.add(parent_id)
            parent_id = parent.parent_span_id
        self._ancestors[span.span_id] = chain
        return chain

    def depth(self, span: Span) -> int:
        """How many of the span's ancestors are in the batch."""
        return len(self.ancestors(span))

    def reaches_root(self, span: Span) -> bool:
        """Whether the in-batch ancestor chain ends at the trace root."""
        chain = self.ancestors(span)
        top = chain[-1] if chain else span
        return not top.parent_span_id
