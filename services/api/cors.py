"""CORS for the query API: browser dashboards on the allowed origins may read its answers."""

from __future__ import annotations

from collections.abc import MutableMapping

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

ALLOWED_METHODS = ("GET", "POST", "DELETE", "OPTIONS")
ALLOWED_HEADERS = ("Content-Type", "Authorization", "x-api-key")
EXPOSED_HEADERS = (
    "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
    "RateLimit-Policy", "X-Cache",
)  # fmt: skip
PREFLIGHT_MAX_AGE_SECONDS = 600


def cors_middleware(origins: tuple[str, ...]) -> Middleware:
    """Answer preflights and mark responses for `origins` (`*` allows any); no cookies."""
    is_any = "*" in origins
    allowed = frozenset(origins)

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is None or not origins:
            return await handler(request)
        allowed_origin = "*" if is_any else (origin if origin in allowed else None)
        requested = request.headers.get("Access-Control-Request-Method")
        if request.method == "OPTIONS" and requested is not None:
            return _preflight(allowed_origin, requested)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            _mark(exc.headers, allowed_origin, is_any)
            raise
        _mark(response.headers, allowed_origin, is_any)
        return response

    return cors


def _preflight(allowed_origin: str | None, method: str) -> web.Response:
    if allowed_origin is None or method.upper() not in ALLOWED_METHODS:
        return web.Response(status=403, text="CORS preflight refused: origin or method not allowed")
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Origin": allowed_origin,
            "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
            "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
            "Vary": "Origin",
        },
    )


def _mark(headers: MutableMapping[str, str], allowed_origin: str | None, is_any: bool) -> None:
    if allowed_origin is None:
        return
    headers["Access-Control-Allow-Origin"] = allowed_origin
    headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
    if not is_any:
        headers["Vary"] = "Origin"
