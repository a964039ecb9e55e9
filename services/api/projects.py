"""Which project a request may read: every query is confined to it."""

from __future__ import annotations

from aiohttp import web


class ProjectResolver:
    """Resolves the caller's project from its credentials."""

    def __init__(self, default_project: str) -> None:
        self._default_project = default_project

    async def resolve(self, request: web.Request) -> str:
        """Return the caller's project id (the default project until API keys are configured)."""
        return self._default_project
