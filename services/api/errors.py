"""The one place API errors become HTTP responses: `{"error": {"status", "message"}}`."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler
from psycopg import OperationalError
from psycopg.errors import QueryCanceled
from psycopg_pool import PoolTimeout

from shared.errors import (
    BadInputError,
    NotFoundError,
    ObservatoryError,
    RetryableError,
    ThrottledError,
    UnauthenticatedError,
)

log = logging.getLogger(__name__)


def status_of(error: ObservatoryError) -> int:
    """The HTTP status of an error kind."""
    if isinstance(error, BadInputError):
        return 400
    if isinstance(error, UnauthenticatedError):
        return 401
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ThrottledError):
        return 429
    if isinstance(error, RetryableError):
        return 503
    return 500


def error_json(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """The error body every endpoint uses."""
    return web.json_response(
        {"error": {"status": status, "message": message}}, status=status, headers=headers
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Translate our errors and the database's transient ones; let aiohttp's own pass."""
    try:
        return await handler(request)
    except ObservatoryError as exc:
        headers = {}
        if isinstance(exc, RetryableError):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        return error_json(status_of(exc), str(exc), headers)
    except QueryCanceled:
        return error_json(
            503, "the query took too long; narrow the time range", {"Retry-After": "1"}
        )
    except (OperationalError, PoolTimeout) as exc:
        log.warning("database unavailable", extra={"error": type(exc).__name__})
        return error_json(503, "the database is unavailable", {"Retry-After": "2"})
