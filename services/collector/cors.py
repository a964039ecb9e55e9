"""CORS for the HTTP receiver, so that browser exporters may send from the allowed origins."""

from __future__ import annotations

from collections.abc import MutableMapping

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

ALLOWED_METHODS = ("POST", "PATCH", "OPTIONS")
ALLOWED_HEADERS = ("Content-Type", "Content-Encoding", "Authorization", "x-api-key")
# What a browser script may read of a response: the wait of a 429 or 503.
EXPOSED_HEADERS = ("Retry-After",)
PREFLIGHT_MAX_AGE_SECONDS = 600


def cors_middleware(origins: tuple[str, ...]) -> Middleware:
    """Answer preflights and mark responses for `origins` (`*` allows any origin).

    No credentials mode is offered: exporters authenticate with a header, not cookies, and
    `*` cannot be combined with credentials anyway.
    """
    is_any = "*" in origins
    allowed = frozenset(origins)

    def allow_origin(origin: str) -> str | None:
        if is_any:
            return "*"
        return origin if origin in allowed else None

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is None:
            return await handler(request)
        allowed_origin = allow_origin(origin)
        requested_method = request.headers.get("Access-Control-Request-Method")
        if request.method == "OPTIONS" and requested_method is not None:
            return _preflight(allowed_origin, requested_method)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # aiohttp's own 404/405: let the browser read them too
            _mark(exc.headers, allowed_origin, is_any)
            raise
        _mark(response.headers, allowed_origin, is_any)
        return response

    return cors


def _preflight(allowed_origin: str | None, requested_method: str) -> web.Response:
    if allowed_origin is None or requested_method.upper() not in ALLOWED_METHODS:
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
