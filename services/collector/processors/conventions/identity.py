"""Session, user and tags of a span, in the precedence of the reference table (§8.4)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.span import Attributes

from .values import as_str, as_str_list, dig

_METADATA_JSON = ("langfuse.trace.metadata", "langfuse.observation.metadata")

_SESSION_KEYS = (
    "gen_ai.conversation.id",
    "session.id",
    "langfuse.session.id",
    "traceloop.association.properties.session_id",
    "ai.telemetry.metadata.sessionId",
    "ai.settings.runtimeContext.sessionId",
    "ai.settings.context.sessionId",
    "langfuse.trace.metadata.langfuse_session_id",
    "langfuse.observation.metadata.langfuse_session_id",
    "#langfuse_session_id",
    "gen_ai.session.id",
)
_USER_KEYS = (
    "user.id",
    "langfuse.user.id",
    "enduser.id",
    "enduser.pseudo.id",
    "traceloop.association.properties.user_id",
    "ai.telemetry.metadata.userId",
    "ai.settings.runtimeContext.userId",
    "ai.settings.context.userId",
    "langfuse.trace.metadata.langfuse_user_id",
    "langfuse.observation.metadata.langfuse_user_id",
    "#langfuse_user_id",
    "gen_ai.user.id",
    "litellm.end_user.id",
    "metadata.user_api_key_end_user_id",
    "gen_ai.request.user",
    "gen_ai.user",
    "llm.user",
    # The API key's owner, not the end user: the weakest hint.
    "metadata.user_api_key_user_id",
)
_TAG_KEYS = (
    "langfuse.trace.tags",
    "tag.tags",
    "ai.telemetry.metadata.tags",
    "langfuse.tags",
    "langfuse.trace.metadata.langfuse_tags",
    "langfuse.observation.metadata.langfuse_tags",
    "#langfuse_tags",
)


@dataclass(frozen=True, slots=True)
class Identity:
    """Trace-level facts one span states itself, with the attribute that stated each."""

    session_id: str | None = None
    session_source: str | None = None
    user_id: str | None = None
    user_source: str | None = None
    tags: tuple[str, ...] = ()
    tags_source: str | None = None


# Most spans state none of these: one pass over their attribute names tells (the hot path).
_PLAIN_KEYS = frozenset(
    key for key in (*_SESSION_KEYS, *_USER_KEYS, *_TAG_KEYS, *_METADATA_JSON)
    if not key.startswith("#")
)  # fmt: skip
_NONE = Identity()


def identity_of(attributes: Attributes) -> Identity:
    """The session, user and tags a span's own attributes state."""
    if _PLAIN_KEYS.isdisjoint(attributes):
        return _NONE
    session, session_source = _first(attributes, _SESSION_KEYS)
    user, user_source = _first(attributes, _USER_KEYS)
    tags: list[str] = []
    tag_sources: list[str] = []
    for key in _TAG_KEYS:
        found = as_str_list(_lookup(attributes, key))
        if found:
            tags.extend(tag for tag in found if tag not in tags)
            tag_sources.append(key)
    return Identity(
        session_id=session,
        session_source=session_source,
        user_id=user,
        user_source=user_source,
        tags=tuple(tags),
        tags_source=",".join(tag_sources) or None,
    )


def _first(attributes: Attributes, keys: tuple[str, ...]) -> tuple[str | None, str | None]:
    for key in keys:
        value = as_str(_lookup(attributes, key))
        if value is not None:
            return value, key if not key.startswith("#") else _json_source(attributes, key)
    return None, None


def _lookup(attributes: Attributes, key: str) -> object:
    """A plain attribute, or for `#name` the key inside Langfuse's JSON metadata objects."""
    if not key.startswith("#"):
        return attributes.get(key)
    for container in _METADATA_JSON:
        value = dig(attributes.get(container), key[1:])
        if value is not None:
            return value
    return None


def _json_source(attributes: Attributes, key: str) -> str:
    for container in _METADATA_JSON:
        if dig(attributes.get(container), key[1:]) is not None:
            return f"{container}{key}"
    return key
