"""`/health` (liveness) and `/health/detailed` (database and Redis, each with latency)."""

from __future__ import annotations

from aiohttp import web

from services.api import build_info
from services.api.context import POOL, REDIS
from shared.health import dependency_report

routes = web.RouteTableDef()


@routes.get("/health")
async def health(_: web.Request) -> web.Response:
    """The process answers, naming the version and build it runs."""
    return web.json_response(
        {"status": "ok", "version": build_info.VERSION, "build": build_info.BUILD}
    )


@routes.get("/health/detailed")
async def health_detailed(request: web.Request) -> web.Response:
    """Both dependencies checked; 503 when either fails."""
    body, status = await dependency_report(request.app[POOL], request.app[REDIS])
    return web.json_response(body, status=status)
