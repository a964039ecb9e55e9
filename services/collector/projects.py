"""Which project an export request belongs to."""

from __future__ import annotations

from collections.abc import Mapping


class ProjectResolver:
    """Resolves the project of a request from its headers or gRPC metadata."""

    def __init__(self, default_project: str) -> None:
        self._default_project = default_project

    async def resolve(self, headers: Mapping[str, str]) -> str:
        """Return the request's project id (the default project until API keys are configured)."""
        return self._default_project
