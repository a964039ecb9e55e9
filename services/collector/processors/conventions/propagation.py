"""Session, user and tags set on a root or an ancestor apply to the spans below them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from shared.span import LLMCall, Span

from .identity import Identity
from .trace_tree import TraceTree


def trace_fallback(tree: TraceTree, identities: Mapping[str, Identity]) -> Span | None:
    """The span standing for the trace root: the root itself, else the shallowest holder."""
    holders = [span for span in tree.by_id.values() if _has_identity(identities[span.span_id])]
    if not holders:
        return None
    return min(holders, key=lambda s: (bool(s.parent_span_id), tree.depth(s), s.span_id))


def apply_trace_identity(
    call: LLMCall,
    span: Span,
    tree: TraceTree,
    identities: Mapping[str, Identity],
    fallback: Span | None,
) -> LLMCall:
    """The call with its own identity, else its nearest ancestor's, else the trace root's."""
    chain = [span, *tree.ancestors(span)]
    if fallback is not None and not tree.reaches_root(span):
        chain.append(fallback)
    sources = dict(call.field_sources)
    session = _nearest(chain, identities, span, "session", sources)
    user = _nearest(chain, identities, span, "user", sources)
    tags: list[str] = []
    tag_origins: list[str] = []
    for holder in chain:
        identity = identities[holder.span_id]
        new = [tag for tag in identity.tags if tag not in tags]
        if new:
            tags.extend(new)
            tag_origins.append(_origin(identity.tags_source, holder, span))
    if tag_origins:
        sources["tags"] = "; ".join(tag_origins)
    return replace(call, session_id=session, user_id=user, tags=tuple(tags), field_sources=sources)


def _nearest(
    chain: list[Span],
    identities: Mapping[str, Identity],
    span: Span,
    field: str,
    sources: dict[str, str],
) -> str | None:
    for holder in chain:
        identity = identities[holder.span_id]
        value = identity.session_id if field == "session" else identity.user_id
        if value is not None:
            source = identity.session_source if field == "session" else identity.user_source
            sources[f"{field}_id"] = _origin(source, holder, span)
            return value
    return None


def _origin(source: str | None, holder: Span, span: Span) -> str:
    if holder is span:
        return source or ""
    return f"{source} (span {holder.span_id})"


def _has_identity(identity: Identity) -> bool:
    return identity.session_id is not None or identity.user_id is not None or bool(identity.tags)
