"""The error kinds every service speaks: bad input, auth, throttled, unavailable, config."""

from __future__ import annotations


class ObservatoryError(Exception):
    """Base of the errors a transport maps to a status; the message is safe to show a client."""


class BadInputError(ObservatoryError):
    """The sender's fault (HTTP 400 / gRPC INVALID_ARGUMENT); retrying the same data cannot help."""


class PayloadTooLargeError(BadInputError):
    """The body is over the size limit, compressed or decompressed (HTTP 413)."""


class RequestTimeoutError(BadInputError):
    """The body did not arrive within the time allowed (HTTP 408): a stalled or slow upload."""


class UnsupportedMediaTypeError(BadInputError):
    """The content type or content encoding is not one the endpoint accepts (HTTP 415)."""


class NotFoundError(ObservatoryError):
    """The addressed resource does not exist in the caller's project (HTTP 404)."""


class UnauthenticatedError(ObservatoryError):
    """No valid credentials (HTTP 401 / gRPC UNAUTHENTICATED)."""


class PermissionDeniedError(ObservatoryError):
    """Valid credentials without the scope the request needs (HTTP 403 / PERMISSION_DENIED)."""


class RetryableError(ObservatoryError):
    """A temporary condition; the client should retry after `retry_after_seconds`."""

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ThrottledError(RetryableError):
    """Over a quota or a bounded queue is full (HTTP 429 / gRPC RESOURCE_EXHAUSTED)."""


class UnavailableError(RetryableError):
    """A dependency is down (HTTP 503 / gRPC UNAVAILABLE)."""


class ConfigError(Exception):
    """Invalid configuration found at startup; the process exits non-zero."""


class ProcessingError(ObservatoryError):
    """A processor failed on a batch; the batch is refused, never forwarded unprocessed (500)."""
