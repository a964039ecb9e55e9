"""The one place API errors become HTTP responses: `{"error": {"status", "message"}}`."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler
from psycopg import DataError, OperationalError
from psycopg.errors import QueryCanceled
from psycopg_pool import PoolTimeout

from services.api.timerange import QueryTooWideError
from shared.errors import (
    BadInputError,
    NotFoundError,
    ObservatoryError,
    PermissionDeniedError,
    RetryableError,
    ThrottledError,
    UnauthenticatedError,
)

log = logging.getLogger(__name__)


class ConflictError(ObservatoryError):
    """The resource already exists (HTTP 409)."""


def status_of(error: ObservatoryError) -> int:
    """The HTTP status of an error kind."""
    statuses: tuple[tuple[type[ObservatoryError], int], ...] = (
        (BadInputError, 400), (UnauthenticatedError, 401), (PermissionDeniedError, 403),
        (NotFoundError, 404), (ConflictError, 409), (QueryTooWideError, 422), (ThrottledError, 429),
        (RetryableError, 503),
    )  # fmt: skip
    for kind, status in statuses:
        if isinstance(error, kind):
            return status
    return 500


def error_json(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """The error body every endpoint uses."""
    return web.json_response(
        {"error": {"status": status, "message": message}}, status=status, headers=headers
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Translate our errors and the database's; let aiohttp's own pass; never leak a trace."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        # aiohttp's own refusals (no such route, wrong method) in the same JSON shape.
        kept = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        return error_json(exc.status, exc.reason, kept)
    except ObservatoryError as exc:
        headers = dict(getattr(exc, "headers", None) or {})
        if isinstance(exc, RetryableError):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        if isinstance(exc, UnauthenticatedError):
            headers["WWW-Authenticate"] = 'Bearer, Basic realm="llm-observatory"'
        return error_json(status_of(exc), str(exc), headers)
    except QueryCanceled:
        return error_json(
            503, "the query took too long; narrow the time range", {"Retry-After": "1"}
        )
    except DataError as exc:
        log.info("value refused by the database", extra={"error": type(exc).__name__})
        return error_json(400, "a parameter's value is out of range")
    except (OperationalError, PoolTimeout) as exc:
        log.warning("database unavailable", extra={"error": type(exc).__name__})
        return error_json(503, "the database is unavailable", {"Retry-After": "2"})
    except Exception:  # the request boundary: log once with context, answer, carry on
        log.exception("request failed", extra={"path": request.path})
        return error_json(500, "internal error")
