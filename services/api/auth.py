"""Who is calling: a project key (with scopes), the operator's admin key, or dev-mode anonymous."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from aiohttp import web

from shared.errors import ObservatoryError, UnauthenticatedError

SCOPE_READ = "read"
SCOPE_ADMIN = "admin"
MISSING_KEY = (
    "an API key is required: send 'Authorization: Bearer <key>', 'x-api-key: <key>' or "
    "Basic auth with a Langfuse public:secret key pair"
)


class ForbiddenError(ObservatoryError):
    """Valid credentials without the right to this request (HTTP 403)."""


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
    """Judges a request's credentials; only credentials choose the project."""

    def __init__(self, admin_key: str, default_project: str, is_dev_mode: bool) -> None:
        self._admin_key = admin_key
        self._default_project = default_project
        self._is_dev_mode = is_dev_mode

    async def authenticate(self, request: web.Request, scope: str) -> Principal:
        """The principal for `scope` (read or admin); 401 or 403 otherwise."""
        secret = _presented_secret(request)
        if secret is None:
            if self._is_dev_mode and scope == SCOPE_READ:
                return Principal(self._default_project, frozenset({SCOPE_READ}))
            raise UnauthenticatedError(MISSING_KEY)
        if self._admin_key and hmac.compare_digest(secret.encode(), self._admin_key.encode()):
            return Principal("", frozenset({SCOPE_ADMIN}), is_admin_key=True)
        raise UnauthenticatedError("the API key is not valid")


def _presented_secret(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "").strip()
    if header:
        scheme, _, rest = header.partition(" ")
        if scheme.lower() != "bearer" or not rest.strip():
            raise UnauthenticatedError("the Authorization header must be 'Bearer <api key>'")
        return rest.strip()
    key = request.headers.get("x-api-key", "").strip()
    return key or None
