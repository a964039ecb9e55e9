"""CORS for the HTTP services: preflights answered, responses marked for the allowed origins."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

PREFLIGHT_MAX_AGE_SECONDS = 600


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """What a service lets browsers do: methods, request headers, readable response headers."""

    methods: tuple[str, ...]
    headers: tuple[str, ...]
    exposed: tuple[str, ...]


def cors_middleware(origins: tuple[str, ...], policy: CorsPolicy) -> Middleware:
    """Answer preflights and mark responses for `origins` (`*` allows any origin).

    No credentials mode is offered: clients authenticate with a header, not cookies, and `*`
    cannot be combined with credentials anyway.
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
            return _preflight(policy, allowed_origin, requested_method)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # aiohttp's own 404/405: let the browser read them too
            _mark(policy, exc.headers, allowed_origin, is_any)
            raise
        _mark(policy, response.headers, allowed_origin, is_any)
        return response

    return cors


def _preflight(
    policy: CorsPolicy, allowed_origin: str | None, requested_method: str
) -> web.Response:
    if allowed_origin is None or requested_method.upper() not in policy.methods:
        return web.Response(status=403, text="CORS preflight refused: origin or method not allowed")
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Origin": allowed_origin,
            "Access-Control-Allow-Methods": ", ".join(policy.methods),
            "Access-Control-Allow-Headers": ", ".join(policy.headers),
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
            "Vary": "Origin",
        },
    )


def _mark(
    policy: CorsPolicy, headers: MutableMapping[str, str], allowed_origin: str | None, is_any: bool
) -> None:
    if allowed_origin is None:
        return
    headers["Access-Control-Allow-Origin"] = allowed_origin
    headers["Access-Control-Expose-Headers"] = ", ".join(policy.exposed)
    if not is_any:
        headers["Vary"] = "Origin"
