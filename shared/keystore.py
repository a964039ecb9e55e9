"""API keys in PostgreSQL: creating and revoking them, and the cached lookup requests pass."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from shared.apikeys import ApiKey, NewKey, hash_key, validate_scopes, verify_key
from shared.credentials import Credential
from shared.errors import PermissionDeniedError, UnauthenticatedError, UnavailableError
from shared.ttl_cache import CachedLookup

# Looking a key up also records when it was last used: at most once per cache refresh.
_FIND = """
WITH found AS (
    SELECT key_id, project_id, scopes, key_hash, display_id, revoked_at IS NOT NULL AS is_revoked
    FROM api_keys WHERE key_hash = %s
), touched AS (
    UPDATE api_keys SET last_used_at = now()
    WHERE key_id IN (SELECT key_id FROM found WHERE NOT is_revoked)
)
SELECT key_id::text, project_id, scopes, key_hash, display_id, is_revoked FROM found
"""
_INSERT = """
INSERT INTO api_keys (key_id, project_id, name, scopes, key_hash, display_id)
VALUES (%s, %s, %s, %s, %s, %s)
"""
_REVOKE = """
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE key_id = %s RETURNING key_id
"""
_LIST = """
SELECT key_id::text, project_id, name, scopes, display_id, created_at, last_used_at, revoked_at
FROM api_keys WHERE %(project_id)s::text IS NULL OR project_id = %(project_id)s
ORDER BY project_id, created_at
"""


class KeyRefusedError(UnauthenticatedError):
    """The key is unknown, revoked, or not the secret of the public key it came with."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class KeyScopeError(PermissionDeniedError):
    """The key is valid but lacks the scope the request needs."""


@dataclass(frozen=True, slots=True)
class _StoredKey:
    key: ApiKey
    key_hash: bytes


class KeyStore:
    """Authenticates credentials against `api_keys` through an in-memory TTL cache.

    Revoking a key takes effect within `ttl_seconds`. While PostgreSQL is down, keys seen in the
    last `ttl_seconds + max_stale_seconds` keep working; an unknown key cannot be judged then and
    is answered UnavailableError (retryable), never "invalid".
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        pepper: str,
        ttl_seconds: float,
        max_stale_seconds: float,
        lookup_timeout_seconds: float = 2.0,
        on_lookup: Callable[[str], None] = lambda source: None,
    ) -> None:
        self._pool = pool
        self._pepper = pepper
        self._timeout = lookup_timeout_seconds
        self._on_lookup = on_lookup
        self._cache: CachedLookup[bytes, _StoredKey | None] = CachedLookup(
            self._find, ttl_seconds, max_stale_seconds
        )

    async def authenticate(self, credential: Credential, scope: str) -> ApiKey:
        """The key behind the credential, if valid and granting `scope`; raise otherwise."""
        stored, source = await self._cache.get(hash_key(credential.secret, self._pepper))
        self._on_lookup(source)
        if stored is None or not verify_key(credential.secret, stored.key_hash, self._pepper):
            raise KeyRefusedError("the API key is not valid", "unknown")
        key = stored.key
        if credential.public_id is not None and not hmac.compare_digest(
            credential.public_id.encode(), key.display_id.encode()
        ):
            raise KeyRefusedError("the public key does not match the secret key", "public_key")
        if key.is_revoked:
            raise KeyRefusedError("the API key has been revoked", "revoked")
        if not key.has_scope(scope):
            raise KeyScopeError(f"the API key lacks the {scope!r} scope")
        return key

    async def _find(self, key_hash: bytes) -> _StoredKey | None:
        try:
            async with self._pool.connection(timeout=self._timeout) as conn:
                cursor = await conn.execute(_FIND, (key_hash,))
                row = await cursor.fetchone()
        except psycopg.OperationalError as exc:  # PoolTimeout and PoolClosed included
            raise UnavailableError("the API key store is unavailable; retry later", 5) from exc
        if row is None:
            return None
        key_id, project_id, scopes, stored_hash, display_id, is_revoked = row
        key = ApiKey(key_id, project_id, frozenset(scopes), display_id, is_revoked)
        return _StoredKey(key, bytes(stored_hash))


async def create_key(
    conn: psycopg.AsyncConnection[Any],
    new_key: NewKey,
    project_id: str,
    name: str,
    scopes: tuple[str, ...],
    pepper: str,
) -> str:
    """Store the key's hash for the project; return its key_id (the secret is not stored)."""
    key_id = str(uuid.uuid4())
    await conn.execute(
        _INSERT,
        (key_id, project_id, name, list(validate_scopes(scopes)),
         hash_key(new_key.secret, pepper), new_key.display_id),
    )  # fmt: skip
    return key_id


async def revoke_key(conn: psycopg.AsyncConnection[Any], key_id: str) -> bool:
    """Revoke a key (idempotent); False when there is no such key."""
    try:
        uuid.UUID(key_id)
    except ValueError:
        return False
    cursor = await conn.execute(_REVOKE, (key_id,))
    return await cursor.fetchone() is not None


async def list_keys(
    conn: psycopg.AsyncConnection[Any], project_id: str | None = None
) -> list[dict[str, Any]]:
    """Every key (of one project, if given) without secrets: ids, names, scopes, times."""
    cursor = await conn.execute(_LIST, {"project_id": project_id})
    columns = [column.name for column in cursor.description or ()]
    return [dict(zip(columns, row, strict=True)) for row in await cursor.fetchall()]
