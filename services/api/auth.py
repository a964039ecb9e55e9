"""Who is calling: a project key (with scopes), the operator's admin key, or dev-mode anonymous.

Only credentials choose the project (ADR 0008): `Authorization: Bearer <key>`, `x-api-key`, or
Langfuse's Basic `public:secret`. Scopes: `read` for reads; `admin` manages the key's own
project; the admin key (LLMOBS_ADMIN_KEY) manages every project and creates projects.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from aiohttp import web

from services.api.metrics import ApiMetrics
from shared.credentials import read_credentials
from shared.errors import PermissionDeniedError, UnauthenticatedError
from shared.keystore import KeyStore

SCOPE_READ = "read"
SCOPE_ADMIN = "admin"
# Endpoint scopes: read, admin (a project's admin key or the admin key), operator (admin key).
SCOPE_OPERATOR = "operator"
MISSING_KEY = (
    "an API key is required: send 'Authorization: Bearer <key>', 'x-api-key: <key>' or "
    "Basic auth with a Langfuse public:secret key pair"
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: the project it is confined to, its scopes, and what to rate-limit it by."""

    project_id: str
    scopes: frozenset[str]
    key_id: str | None = None
    is_admin_key: bool = False

    @property
    def rate_key(self) -> str:
        """The identity its rate limit is kept under (never the secret)."""
        if self.is_admin_key:
            return "admin"
        return f"key:{self.key_id}" if self.key_id else f"anonymous:{self.project_id}"


class Authenticator:
    """Judges a request's credentials against the key store (cached, as the collector does)."""

    def __init__(
        self, keys: KeyStore, admin_key: str, default_project: str, is_dev_mode: bool,
        metrics: ApiMetrics,
    ) -> None:  # fmt: skip
        self._keys = keys
        self._admin_key = admin_key
        self._default_project = default_project
        self._is_dev_mode = is_dev_mode
        self._metrics = metrics

    async def authenticate(self, request: web.Request, scope: str) -> Principal:
        """The principal allowed `scope`; UnauthenticatedError (401), PermissionDeniedError (403)
        or UnavailableError (503: the key store cannot judge an unknown key)."""
        try:
            return await self._authenticate(request, scope)
        except UnauthenticatedError:
            self._metrics.auth_failures.labels("401").inc()
            raise
        except PermissionDeniedError:
            self._metrics.auth_failures.labels("403").inc()
            raise

    async def _authenticate(self, request: web.Request, scope: str) -> Principal:
        credentials = read_credentials(request.headers.items())
        if not credentials:
            if self._is_dev_mode and scope == SCOPE_READ:
                return Principal(self._default_project, frozenset({SCOPE_READ}))
            raise UnauthenticatedError(MISSING_KEY)
        if len(credentials) > 1:
            raise UnauthenticatedError("the request carries more than one API key; send one")
        (credential,) = credentials
        if (
            self._admin_key
            and credential.public_id is None
            and hmac.compare_digest(credential.secret.encode(), self._admin_key.encode())
        ):
            if scope == SCOPE_READ:
                raise PermissionDeniedError("the admin key manages projects; read with a read key")
            return Principal("", frozenset({SCOPE_ADMIN}), is_admin_key=True)
        if scope == SCOPE_OPERATOR:
            raise PermissionDeniedError("only the admin key (LLMOBS_ADMIN_KEY) may do this")
        key = await self._keys.authenticate(credential, scope)
        return Principal(key.project_id, key.scopes, key_id=key.key_id)
