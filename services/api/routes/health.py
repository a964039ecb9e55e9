"""`/health` (liveness) and `/health/detailed` (database and Redis, each with latency)."""

from __future__ import annotations

from aiohttp import web

from services.api.context import POOL, REDIS
from shared.health import dependency_report

routes = web.RouteTableDef()


@routes.get("/health")
async def health(_: web.Request) -> web.Response:
    """The process answers."""
    return web.json_response({"status": "ok"})


@routes.get("/health/detailed")
async def health_detailed(request: web.Request) -> web.Response:
    """Both dependencies checked; 503 when either fails."""
    body, status = await dependency_report(request.app[POOL], request.app[REDIS])
    return web.json_response(body, status=status)
