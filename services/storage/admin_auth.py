"""Who may change billing data through the storage admin API: the operator's admin key
(LLMOBS_ADMIN_KEY, every project) or a project API key with the `admin` scope (its project).

The other admin endpoints (health, statistics, dead letters, retention) stay open to the
internal network the port is bound to; re-pricing rewrites costs, so it needs a key, judged by
the key store the collector and the API use
(docs/adr/0009-repricing-and-sampling-weights.md).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from shared.credentials import read_credentials
from shared.errors import PermissionDeniedError, UnauthenticatedError
from shared.keystore import KeyStore

SCOPE_ADMIN = "admin"
ADMIN_KEY_CALLER = "admin-key"


@dataclass(frozen=True, slots=True)
class AdminCaller:
    """An authenticated caller: the project it is confined to (None: every project), and how
    the audit names it (never by its secret)."""

    project_id: str | None
    requested_by: str

    def check_project(self, project_id: str) -> None:
        """Raise PermissionDeniedError unless the caller may act on `project_id`."""
        if self.project_id is not None and self.project_id != project_id:
            raise PermissionDeniedError("the API key belongs to another project")


class AdminAuthenticator:
    """Judges the credentials of a request to an endpoint that needs an admin key."""

    def __init__(self, keys: KeyStore, admin_key: str) -> None:
        self._keys = keys
        self._admin_key = admin_key

    async def authenticate(self, headers: Mapping[str, str]) -> AdminCaller:
        """The caller; UnauthenticatedError (401), PermissionDeniedError (403) or
        UnavailableError (503: the key store cannot judge an unknown key now)."""
        credentials = read_credentials(headers.items())
        if not credentials:
            raise UnauthenticatedError(
                "an admin key is required: 'Authorization: Bearer <key>' with LLMOBS_ADMIN_KEY "
                "or a project key with the admin scope"
            )
        if len(credentials) > 1:
            raise UnauthenticatedError("the request carries more than one API key; send one")
        (credential,) = credentials
        if (
            self._admin_key
            and credential.public_id is None
            and hmac.compare_digest(credential.secret.encode(), self._admin_key.encode())
        ):
            return AdminCaller(None, ADMIN_KEY_CALLER)
        key = await self._keys.authenticate(credential, SCOPE_ADMIN)
        return AdminCaller(key.project_id, f"key:{key.key_id}")
