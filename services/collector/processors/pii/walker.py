"""Redaction of strings and nested values, JSON held in strings included."""

from __future__ import annotations

from collections import Counter
from typing import Final

import orjson

from .kinds import Kind, Match
from .patterns import MIN_LENGTH, find_matches, is_aws_secret_field
from .policy import DEFAULT_POLICY, Mode, RedactPolicy

MAX_DEPTH = 64


class NestingTooDeepError(ValueError):
    """A value nests deeper than `MAX_DEPTH`: it is rejected rather than passed unredacted."""


class _Dropped:
    """The type of `DROPPED`."""

    def __repr__(self) -> str:
        return "DROPPED"


# Stands for a value that held a detection whose rule drops: remove the attribute or field.
DROPPED: Final = _Dropped()
_NOT_JSON: Final = object()


class Redactor:
    """Redacts values under one policy, remembering each string's result; one per batch."""

    def __init__(self, policy: RedactPolicy) -> None:
        self.policy = policy
        self._cache: dict[str, tuple[object | None, tuple[Kind, ...]]] = {}

    def redact(self, value: object, key: str | None = None) -> tuple[object, list[Kind]]:
        """The redacted value (the same object when nothing changed, or `DROPPED`) and the
        kinds found in it; `key` is the attribute key, context for key-named secrets."""
        found: list[Kind] = []
        return self._value(value, key, 0, found), found

    def _value(self, value: object, key: str | None, depth: int, found: list[Kind]) -> object:
        if isinstance(value, str):
            return value if len(value) < MIN_LENGTH else self._text(value, key, depth, found)
        if isinstance(value, dict):
            return self._dict(value, depth + 1, found)
        if isinstance(value, list | tuple):
            return self._sequence(value, depth + 1, found)
        if isinstance(value, bytes):
            return self._bytes(value, key, depth, found)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**12:
            # A card number sent as an integer; nothing shorter can be one.
            return (
                self._text(str(value), key, depth, found)
                if Kind.CREDIT_CARD in self.policy.kinds
                else value
            )
        return value

    def _dict(self, value: dict[object, object], depth: int, found: list[Kind]) -> object:
        if depth > MAX_DEPTH:
            raise NestingTooDeepError(f"value nests deeper than {MAX_DEPTH} levels")
        changed: dict[object, object] | None = None
        is_dropped = False
        for index, (name, item) in enumerate(value.items()):
            key = name if isinstance(name, str) else None
            new_name = (
                name
                if key is None or len(key) < MIN_LENGTH
                else self._text(key, None, depth, found)
            )
            new_item = self._value(item, key, depth, found)
            is_dropped = is_dropped or new_name is DROPPED or new_item is DROPPED
            if changed is None and (new_name is not name or new_item is not item):
                changed = dict(list(value.items())[:index])
            if changed is not None:
                changed[new_name] = new_item
        if is_dropped:
            return DROPPED
        return value if changed is None else changed

    def _sequence(
        self, value: list[object] | tuple[object, ...], depth: int, found: list[Kind]
    ) -> object:
        if depth > MAX_DEPTH:
            raise NestingTooDeepError(f"value nests deeper than {MAX_DEPTH} levels")
        items = [self._value(item, None, depth, found) for item in value]
        is_changed = False
        for new, old in zip(items, value, strict=True):
            if new is DROPPED:
                return DROPPED
            is_changed = is_changed or new is not old
        if not is_changed:
            return value
        return items if isinstance(value, list) else tuple(items)

    def _bytes(self, value: bytes, key: str | None, depth: int, found: list[Kind]) -> object:
        try:
            text = value.decode()
        except UnicodeDecodeError:
            return value  # binary content, not text that could be read as personal data
        result = self._text(text, key, depth, found)
        return result if result is DROPPED or result is text else str(result).encode()

    def _text(self, text: str, key: str | None, depth: int, found: list[Kind]) -> object:
        if len(text) < MIN_LENGTH:
            return text
        if len(text) == 40 and key is not None and self._is_aws_secret_field(key, text):
            return self._apply(text, [Match(0, len(text), Kind.AWS_SECRET_KEY)], found)
        cached = self._cache.get(text)
        if cached is not None:
            found.extend(cached[1])
            return text if cached[0] is None else cached[0]  # None: unchanged, keep this object
        mark = len(found)
        result = self._json(text, depth, found) if _may_be_json(text) else _NOT_JSON
        if result is _NOT_JSON:
            result = self._apply(text, find_matches(text, self.policy.kinds), found)
        self._cache[text] = (None if result is text else result, tuple(found[mark:]))
        return result

    def _is_aws_secret_field(self, key: str, text: str) -> bool:
        return Kind.AWS_SECRET_KEY in self.policy.kinds and is_aws_secret_field(key, text)

    def _json(self, text: str, depth: int, found: list[Kind]) -> object:
        # Message attributes hold JSON: redact its leaves and keep it valid JSON.
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            return _NOT_JSON
        mark = len(found)
        try:
            result = self._value(parsed, None, depth, found)
        except NestingTooDeepError:
            del found[mark:]
            return _NOT_JSON  # too deep to walk: scanned as plain text instead
        if result is DROPPED:
            return DROPPED
        return text if result is parsed else orjson.dumps(result).decode()

    def _apply(self, text: str, matches: list[Match], found: list[Kind]) -> object:
        policy = self.policy
        pieces: list[str] = []
        last = 0
        is_dropped = False
        for match in matches:
            value = text[match.start : match.end]
            if policy.is_allowed(value):
                continue
            found.append(match.kind)
            if policy.modes[match.kind] is Mode.DROP:
                is_dropped = True
                continue
            pieces += (text[last : match.start], policy.replacement(match.kind, value))
            last = match.end
        if is_dropped:
            return DROPPED
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)


def _may_be_json(text: str) -> bool:
    if len(text) < 2:
        return False
    first, last = text[0], text[-1]
    if first in " \t\r\n" or last in " \t\r\n":
        stripped = text.strip()
        if len(stripped) < 2:
            return False
        first, last = stripped[0], stripped[-1]
    return (first == "{" and last == "}") or (first == "[" and last == "]")


def count_kinds(found: list[Kind]) -> dict[str, int]:
    """Detections per rule name, as the stats and `redact_value` report them."""
    return {kind.value: count for kind, count in Counter(found).items()}


def redact_value(
    value: object, policy: RedactPolicy = DEFAULT_POLICY
) -> tuple[object, dict[str, int]]:
    """Redact a string or nested value; returns it (or `DROPPED`) with detections per rule."""
    result, found = Redactor(policy).redact(value)
    return result, count_kinds(found)
