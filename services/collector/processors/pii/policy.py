"""What happens to a detection: the mode per kind, the allow-lists, and the replacement text."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from .kinds import ALL_KINDS, Kind


class Mode(StrEnum):
    """What a rule does with a detection."""

    MASK = "mask"  # `[REDACTED:EMAIL]`
    HASH = "hash"  # `[HASH:EMAIL:<16 hex>]`, keyed per project so equal values still join
    DROP = "drop"  # the whole attribute (or field) holding it is removed


@dataclass(frozen=True, slots=True)
class RedactPolicy:
    """The rules in force for one project: enabled kinds with their modes, allow-lists, key."""

    modes: Mapping[Kind, Mode] = field(
        default_factory=lambda: MappingProxyType(dict.fromkeys(Kind, Mode.MASK))
    )
    allow_values: frozenset[str] = frozenset()
    allow_pattern: re.Pattern[str] | None = None
    hash_key: bytes = field(default=b"", repr=False)
    kinds: frozenset[Kind] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", frozenset(self.modes) & ALL_KINDS)

    def is_allowed(self, value: str) -> bool:
        """True if the detected value is allow-listed and must be left as it is."""
        if value in self.allow_values:
            return True
        return self.allow_pattern is not None and self.allow_pattern.fullmatch(value) is not None

    def replacement(self, kind: Kind, value: str) -> str:
        """The text that stands in for a detected value under mask or hash mode."""
        if self.modes[kind] is not Mode.HASH:
            return f"[REDACTED:{kind.label}]"
        if not self.hash_key:
            raise ValueError(f"rule {kind.value} hashes but the policy has no hash key")
        digest = hmac.new(self.hash_key, _normalise(kind, value).encode(), hashlib.sha256)
        return f"[HASH:{kind.label}:{digest.hexdigest()[:16]}]"


def derive_hash_key(secret: str, project_id: str) -> bytes:
    """The per-project HMAC key: one project's hashes cannot be joined with another's."""
    message = b"llm-observatory/redact/" + project_id.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _normalise(kind: Kind, value: str) -> str:
    # Spelling variants of one value hash alike: `Alice@Example.com`, `4111-1111-...`.
    if kind is Kind.EMAIL:
        return value.lower()
    if kind in (Kind.CREDIT_CARD, Kind.SSN, Kind.PHONE):
        digits = "".join(char for char in value if char.isdigit())
        return "+" + digits if value.startswith("+") else digits
    if kind is Kind.IBAN:
        return value.replace(" ", "").upper()
    return value


DEFAULT_POLICY = RedactPolicy()
