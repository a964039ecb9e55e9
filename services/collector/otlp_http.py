"""OTLP/HTTP receiver (POST /v1/traces, /v1/metrics, /v1/logs on 4318): bodies, encodings,
limits and status codes; answers in the request's content type (protobuf or JSON)."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import zstandard
from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import status_pb2

from services.collector.admission import InflightBytes
from services.collector.cors import RECEIVER_CORS
from services.collector.metrics import CollectorMetrics
from services.collector.projects import ProjectResolver
from services.collector.receive import Receiver
from services.collector.signals import SIGNALS, OtlpSignal
from shared.cors import cors_middleware
from shared.errors import (
    BadInputError,
    NotFoundError,
    ObservatoryError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ProcessingError,
    RequestTimeoutError,
    RetryableError,
    ThrottledError,
    UnauthenticatedError,
    UnsupportedMediaTypeError,
)
from shared.handoff import SIGNAL_TRACES
from shared.otlp.json_encoding import parse_json
from shared.otlp.protobuf import parse_protobuf

TRANSPORT = "http"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# Langfuse's OTLP endpoint: its SDKs (v3+) export here with Basic auth (public:secret key).
LANGFUSE_TRACES_PATH = "/api/public/otel/v1/traces"
RECEIVER_KEY = web.AppKey("receiver", Receiver)
PROJECTS_KEY = web.AppKey("projects", ProjectResolver)
METRICS_KEY = web.AppKey("metrics", CollectorMetrics)
MAX_BYTES_KEY = web.AppKey("max_request_bytes", int)
INFLIGHT_KEY = web.AppKey("inflight", InflightBytes)
BODY_TIMEOUT_KEY = web.AppKey("body_timeout_seconds", float)


def http_status(error: ObservatoryError) -> int:
    """The HTTP status for an error kind (OTLP/HTTP spec: 429/503 retryable, 4xx final)."""
    if isinstance(error, PayloadTooLargeError):
        return 413
    if isinstance(error, RequestTimeoutError):
        return 408
    if isinstance(error, UnsupportedMediaTypeError):
        return 415
    if isinstance(error, BadInputError):
        return 400
    if isinstance(error, UnauthenticatedError):
        return 401
    if isinstance(error, PermissionDeniedError):
        return 403
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ThrottledError):
        return 429
    if isinstance(error, RetryableError):
        return 503
    if isinstance(error, ProcessingError):
        return 500
    return 500


def error_response(error: ObservatoryError, content_type: str) -> web.Response:
    """A `google.rpc.Status` body in the request's encoding, plus Retry-After when retryable."""
    status = http_status(error)
    headers = {}
    if isinstance(error, RetryableError):
        headers["Retry-After"] = str(error.retry_after_seconds)
    message = status_pb2.Status(code=status, message=str(error))
    if content_type == PROTOBUF:
        return web.Response(
            status=status, body=message.SerializeToString(), content_type=PROTOBUF,
            headers=headers,
        )  # fmt: skip
    return web.json_response(
        {"code": status, "message": str(error)}, status=status, headers=headers
    )


async def read_body(request: web.Request, max_bytes: int, timeout_seconds: float) -> bytes:
    """Read and decompress the body, enforcing the limit on both sizes (no gzip bombs) and a
    deadline for the whole body (no slow-loris uploads holding connections forever)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLargeError(f"request body exceeds the limit of {max_bytes} bytes")
    raw = bytearray()
    try:
        async with asyncio.timeout(timeout_seconds):
            async for chunk in request.content.iter_chunked(65536):
                raw.extend(chunk)
                if len(raw) > max_bytes:
                    raise PayloadTooLargeError(
                        f"request body exceeds the limit of {max_bytes} bytes"
                    )
    except TimeoutError as exc:
        raise RequestTimeoutError(
            f"request body not received within {timeout_seconds:g} seconds"
        ) from exc
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    return decompress(bytes(raw), encoding, max_bytes)


def decompress(body: bytes, encoding: str, max_bytes: int) -> bytes:
    """Decompress `body` by its Content-Encoding, never past `max_bytes` of output."""
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, max_bytes + 1)
        except zlib.error as exc:
            raise BadInputError(f"body is not valid {encoding}: {exc}") from exc
        if len(out) > max_bytes or inflater.unconsumed_tail:
            raise PayloadTooLargeError(f"decompressed body exceeds the limit of {max_bytes} bytes")
        if not inflater.eof:
            raise BadInputError(f"body is truncated {encoding} data")
        return out
    if encoding == "zstd":
        return _decompress_zstd(body, max_bytes)
    raise UnsupportedMediaTypeError(
        f"Content-Encoding {encoding!r} is not supported (use gzip, zstd, deflate or identity)"
    )


def _decompress_zstd(body: bytes, max_bytes: int) -> bytes:
    reader = zstandard.ZstdDecompressor().stream_reader(body)
    try:
        out = reader.read(max_bytes + 1)
    except zstandard.ZstdError as exc:
        raise BadInputError(f"body is not valid zstd: {exc}") from exc
    if len(out) > max_bytes:
        raise PayloadTooLargeError(f"decompressed body exceeds the limit of {max_bytes} bytes")
    return out


def check_content_type(content_type: str) -> None:
    """Refuse (415) a body that is neither binary protobuf nor OTLP/JSON."""
    if content_type not in (PROTOBUF, JSON):
        raise UnsupportedMediaTypeError(
            f"Content-Type {content_type or '(none)'!r} is not supported; use {PROTOBUF} or {JSON}"
        )


def parse_body(body: bytes, content_type: str, signal: OtlpSignal[Any]) -> Message:
    """Parse the signal's Export request from the body in its content type."""
    if not body:
        raise BadInputError(
            f"request body is empty; expected an {signal.request_type.DESCRIPTOR.name}"
        )
    if content_type == JSON:
        return parse_json(body, signal.request_type)
    return parse_protobuf(body, signal.request_type)


def encode_response(response: Message, content_type: str) -> web.Response:
    """The Export response in the request's encoding (OTLP: same Content-Type as the request)."""
    if content_type == JSON:
        return web.json_response(json_format.MessageToDict(response))
    return web.Response(body=response.SerializeToString(), content_type=PROTOBUF)


def export_handler(signal: OtlpSignal[Any]) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The POST handler of one signal's path."""

    async def export(request: web.Request) -> web.Response:
        app = request.app
        metrics = app[METRICS_KEY]
        started = time.perf_counter()
        content_type = request.content_type
        outcome_label = "ok"
        try:
            project_id = await app[PROJECTS_KEY].resolve(request.headers, TRANSPORT)
            check_content_type(content_type)
            with app[INFLIGHT_KEY].reserve(request.content_length or 0) as held:
                body = await read_body(request, app[MAX_BYTES_KEY], app[BODY_TIMEOUT_KEY])
                held.grow_to(len(body))
                async with app[INFLIGHT_KEY].turn():
                    parsed = parse_body(body, content_type, signal)
                    del body
                    outcome = await signal.export(app[RECEIVER_KEY], parsed, project_id, TRANSPORT)
        except ObservatoryError as exc:
            outcome_label = type(exc).__name__
            return error_response(exc, content_type)
        finally:
            metrics.requests.labels(signal.name, TRANSPORT, outcome_label).inc()
            metrics.request_duration.labels(signal.name, TRANSPORT).observe(
                time.perf_counter() - started
            )
        return encode_response(signal.response(outcome), content_type)

    return export


async def health(_: web.Request) -> web.Response:
    """Liveness of the HTTP receiver."""
    return web.json_response({"status": "ok"})


def build_app(
    receiver: Receiver,
    projects: ProjectResolver,
    metrics: CollectorMetrics,
    max_request_bytes: int,
    inflight: InflightBytes,
    cors_origins: tuple[str, ...] = (),
    body_timeout_seconds: float = 30.0,
) -> web.Application:
    """The OTLP/HTTP application."""
    # aiohttp's own limit stays above ours so our check answers with a clear 413.
    app = web.Application(
        client_max_size=max_request_bytes + 1024,
        middlewares=[cors_middleware(cors_origins, RECEIVER_CORS)] if cors_origins else [],
    )
    app[RECEIVER_KEY] = receiver
    app[PROJECTS_KEY] = projects
    app[METRICS_KEY] = metrics
    app[MAX_BYTES_KEY] = max_request_bytes
    app[INFLIGHT_KEY] = inflight
    app[BODY_TIMEOUT_KEY] = body_timeout_seconds
    for signal in SIGNALS:
        app.router.add_post(signal.http_path, export_handler(signal))
        if signal.name == SIGNAL_TRACES:
            app.router.add_post(LANGFUSE_TRACES_PATH, export_handler(signal))
    app.router.add_get("/health", health)
    return app
