"""API keys: generation, peppered hashing and constant-time verification; never logged."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field

KEY_PREFIX = "lo_"
LANGFUSE_PUBLIC_PREFIX = "pk-lf-"
LANGFUSE_SECRET_PREFIX = "sk-lf-"
SCOPES = ("ingest", "read", "admin")
SCOPE_INGEST = "ingest"
# Enough of a key to recognise it in a list, far too little to guess the rest (256 random bits).
_DISPLAY_CHARS = len(KEY_PREFIX) + 8


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key: the secret is shown once, only its hash is stored."""

    secret: str = field(repr=False)
    # What lists show: the key's first characters, or the public key of a Langfuse pair.
    display_id: str


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key as the services see it (no secret, no hash)."""

    key_id: str
    project_id: str
    scopes: frozenset[str]
    display_id: str
    is_revoked: bool

    def has_scope(self, scope: str) -> bool:
        """Whether the key grants `scope`."""
        return scope in self.scopes


def generate_key() -> NewKey:
    """A new `lo_` key of 32 random bytes (URL-safe base64)."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(secret, secret[:_DISPLAY_CHARS])


def generate_langfuse_pair() -> NewKey:
    """A Langfuse-style pair: the public key `pk-lf-...` identifies, the secret `sk-lf-...`."""
    public_key = LANGFUSE_PUBLIC_PREFIX + str(uuid.uuid4())
    return NewKey(LANGFUSE_SECRET_PREFIX + secrets.token_urlsafe(32), public_key)


def hash_key(secret: str, pepper: str) -> bytes:
    """HMAC-SHA256 of the key under the server's pepper (an empty pepper still hashes)."""
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).digest()


def verify_key(secret: str, stored_hash: bytes, pepper: str) -> bool:
    """Whether `secret` hashes to `stored_hash`, compared in constant time."""
    return hmac.compare_digest(hash_key(secret, pepper), stored_hash)


def validate_scopes(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """The scopes, deduplicated in order; ValueError names an unknown one."""
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; use {', '.join(SCOPES)}")
    if not scopes:
        raise ValueError(f"a key needs at least one scope ({', '.join(SCOPES)})")
    return tuple(dict.fromkeys(scopes))
