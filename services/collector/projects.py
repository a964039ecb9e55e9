"""Which project an export request belongs to: the project of its API key, and nothing else."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.collector.config import CollectorConfig
from services.collector.metrics import CollectorMetrics
from shared.apikeys import SCOPE_INGEST
from shared.credentials import read_credentials
from shared.errors import UnauthenticatedError, UnavailableError
from shared.keystore import KeyRefusedError, KeyScopeError, KeyStore

MISSING_KEY = "an API key is required: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'"


class ProjectResolver:
    """Resolves a request's project from its credentials (HTTP headers or gRPC metadata).

    Nothing else a client sends (headers, resource attributes) can choose the project. In dev
    mode a request without credentials goes to the default project; one with credentials is
    still judged by them.
    """

    def __init__(
        self, keys: KeyStore, default_project: str, is_dev_mode: bool, metrics: CollectorMetrics
    ) -> None:
        self._keys = keys
        self._default_project = default_project
        self._is_dev_mode = is_dev_mode
        self._metrics = metrics

    async def resolve(
        self,
        headers: Mapping[str, str] | Iterable[tuple[str, str | bytes]],
        transport: str,
    ) -> str:
        """The project id; UnauthenticatedError, PermissionDeniedError or UnavailableError.

        `headers` are HTTP headers (a multidict: repeated headers all count) or gRPC metadata.
        """
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        try:
            credentials = read_credentials(pairs)
        except UnauthenticatedError:
            self._count(transport, "malformed")
            raise
        if not credentials:
            if self._is_dev_mode:
                return self._default_project
            self._count(transport, "missing")
            raise UnauthenticatedError(MISSING_KEY)
        if len(credentials) > 1:
            self._count(transport, "conflicting")
            raise UnauthenticatedError("the request carries more than one API key; send one")
        try:
            key = await self._keys.authenticate(credentials[0], SCOPE_INGEST)
        except KeyRefusedError as exc:
            self._count(transport, exc.reason)
            raise
        except KeyScopeError:
            self._count(transport, "scope")
            raise
        except UnavailableError:
            self._count(transport, "unavailable")
            raise
        return key.project_id

    def _count(self, transport: str, reason: str) -> None:
        self._metrics.auth_failures.labels(transport, reason).inc()


def build_resolver(
    pool: AsyncConnectionPool[Any], config: CollectorConfig, metrics: CollectorMetrics
) -> ProjectResolver:
    """The resolver over a key store on `pool`, with the configured cache and dev mode."""
    keys = KeyStore(
        pool, config.key_pepper, config.project_cache_ttl_seconds,
        config.project_cache_max_stale_seconds,
        on_lookup=lambda result: metrics.key_lookups.labels(result).inc(),
    )  # fmt: skip
    return ProjectResolver(keys, config.default_project, config.dev_mode, metrics)
