"""The normalize processor: fill `Span.llm` from whichever LLM convention a span follows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from shared.span import LLMCall, Span, TraceIdentity

from .base import Processor
from .conventions.call import extract_call
from .conventions.counting import settle_counting
from .conventions.identity import Identity, identity_of
from .conventions.propagation import apply_trace_identity, trace_fallback
from .conventions.trace_tree import TraceTree
from .settings import SettingsReader


@dataclass(frozen=True, slots=True)
class NormalizeConfig:
    """Options of the normalize processor; the defaults suit every deployment."""

    # Keep input/output messages and system instructions (redaction runs as its own step).
    capture_content: bool = True
    # Apply session, user and tags of ancestors and the trace root to the calls below them.
    propagate_trace_identity: bool = True

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> NormalizeConfig:
        """Build from a parsed settings mapping; ValueError names every bad key."""
        problems: list[str] = []
        reader = SettingsReader(mapping, "normalize", problems)
        reader.reject_unknown(("capture_content", "propagate_trace_identity"))
        config = cls(
            capture_content=reader.boolean("capture_content", True),
            propagate_trace_identity=reader.boolean("propagate_trace_identity", True),
        )
        if problems:
            raise ValueError("; ".join(problems))
        return config


def build(config: NormalizeConfig) -> Processor:
    """A processor that sets `llm` on every span describing LLM work, leaving others as they are."""

    def normalize(spans: Sequence[Span]) -> list[Span]:
        return normalize_batch(spans, config)

    return normalize


def normalize_batch(spans: Sequence[Span], config: NormalizeConfig) -> list[Span]:
    """Normalise one batch; trace-level decisions use the spans of each trace in the batch."""
    calls = [extract_call(span, config.capture_content) for span in spans]
    identities = [identity_of(span.attributes) for span in spans]
    traces: dict[tuple[str, str], list[int]] = {}
    for i, span in enumerate(spans):
        traces.setdefault((span.project_id, span.trace_id), []).append(i)
    for indexes in traces.values():
        _settle_trace(spans, calls, identities, indexes, config)
    return [
        _with_identity(span, identity) if call is None else replace(span, llm=call)
        for span, call, identity in zip(spans, calls, identities, strict=True)
    ]


def _with_identity(span: Span, identity: Identity) -> Span:
    """A span that is no LLM call keeps the session, user and tags it states for its trace."""
    if identity.session_id is None and identity.user_id is None and not identity.tags:
        return span
    return replace(
        span,
        identity=TraceIdentity(identity.session_id, identity.user_id, identity.tags),
    )


def _settle_trace(
    spans: Sequence[Span], calls: list[LLMCall | None], identities: Sequence[Identity],
    indexes: list[int], config: NormalizeConfig,
) -> None:  # fmt: skip
    """Apply counting and identity propagation to one trace's calls, in place in `calls`;
    `identities` are what each span of the batch states itself."""
    entries = [(i, spans[i], call) for i in indexes if (call := calls[i]) is not None]
    if not entries:
        return
    tree = TraceTree([spans[i] for i in indexes])
    settled = settle_counting([(span, call) for _, span, call in entries], tree)
    # By object: the tree keeps one span per id, the same objects as the batch's.
    stated = {id(spans[i]): identities[i] for i in indexes}
    by_span_id: dict[str, Identity] = {
        span_id: stated[id(span)] for span_id, span in tree.by_id.items()
    }
    fallback = trace_fallback(tree, by_span_id) if config.propagate_trace_identity else None
    for (i, span, _), call in zip(entries, settled, strict=True):
        if config.propagate_trace_identity:
            calls[i] = apply_trace_identity(call, span, tree, by_span_id, fallback)
        else:
            own = {span.span_id: identities[i]}
            calls[i] = apply_trace_identity(call, span, TraceTree([span]), own, None)
