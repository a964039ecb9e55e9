"""Usage counts once per provider call: duplicate spans of one call are not counted."""

from __future__ import annotations

from collections.abc import Sequence

from shared.span import LLMCall, Span

from . import anthropic_sdk
from .call import with_counted
from .trace_tree import TraceTree


def settle_counting(entries: Sequence[tuple[Span, LLMCall]], tree: TraceTree) -> list[LLMCall]:
    """Calls of one trace with duplicates of the same provider call marked not counted.

    Two counted spans describe one call when they share a response id, or when one is the
    other's parent (or, for the Anthropic SDK's own span, its sibling) with the same model and
    no conflicting usage. Of each group the kept span is the non-SDK one, then the deepest
    (closest to the provider), then the earliest, then the lowest span id.
    """
    calls = [call for _, call in entries]
    counted = [i for i, call in enumerate(calls) if call.is_counted]
    groups = _UnionFind(len(entries))
    for position, i in enumerate(counted):
        for j in counted[position + 1 :]:
            if _same_call(entries[i], entries[j]):
                groups.union(i, j)
    members: dict[int, list[int]] = {}
    for i in counted:
        members.setdefault(groups.find(i), []).append(i)
    for group in members.values():
        if len(group) < 2:
            continue
        kept = min(group, key=lambda i: _preference(entries[i], tree))
        for i in group:
            if i != kept:
                calls[i] = with_counted(
                    calls[i], False, f"duplicate of span {entries[kept][0].span_id}"
                )
    return calls


def _preference(entry: tuple[Span, LLMCall], tree: TraceTree) -> tuple[bool, int, int, str]:
    span, call = entry
    is_sdk = call.convention == anthropic_sdk.NAME
    return (is_sdk, -tree.depth(span), span.start_time_unix_nano, span.span_id)


def _same_call(a: tuple[Span, LLMCall], b: tuple[Span, LLMCall]) -> bool:
    (span_a, call_a), (span_b, call_b) = a, b
    if call_a.response_id is not None and call_a.response_id == call_b.response_id:
        return True
    related = span_a.parent_span_id == span_b.span_id or span_b.parent_span_id == span_a.span_id
    is_sdk_pair = anthropic_sdk.NAME in (call_a.convention, call_b.convention)
    if not related and not (is_sdk_pair and span_a.parent_span_id == span_b.parent_span_id):
        return False
    return _same_model(call_a, call_b) and _compatible_usage(call_a, call_b)


def _same_model(a: LLMCall, b: LLMCall) -> bool:
    models_a = {m for m in (a.request_model, a.response_model) if m}
    models_b = {m for m in (b.request_model, b.response_model) if m}
    return bool(models_a & models_b)


def _compatible_usage(a: LLMCall, b: LLMCall) -> bool:
    for left, right in (
        (a.usage.input_tokens, b.usage.input_tokens),
        (a.usage.output_tokens, b.usage.output_tokens),
    ):
        if left is not None and right is not None and left != right:
            return False
    return True


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        root_i, root_j = self.find(i), self.find(j)
        if root_i != root_j:
            self.parent[max(root_i, root_j)] = min(root_i, root_j)
