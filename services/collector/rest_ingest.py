"""REST ingestion on the HTTP port, for apps without OpenTelemetry: JSON traces and spans.

A span is held open in Redis from its start and handed to the same pipeline as OTLP spans when
it completes; the first completion wins and repeats are answered without a second span
(docs/adr/0007-rest-ingestion.md).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from aiohttp import web

from services.collector.metrics import CollectorMetrics
from services.collector.open_spans import OpenSpans
from services.collector.otlp_http import BODY_TIMEOUT_KEY, http_status, read_body
from services.collector.projects import ProjectResolver
from services.collector.quota import IngestQuota
from services.collector.receive import Receiver
from services.collector.rest_schema import (
    ValidationError,
    parse_completion,
    parse_json_body,
    parse_span_start,
    parse_trace_start,
)
from services.collector.rest_spans import (
    DEFAULT_SERVICE,
    TRACE_KIND,
    OpenSpan,
    build_span,
    completion_from_json,
    completion_to_json,
)
from shared.errors import (
    BadInputError,
    NotFoundError,
    ObservatoryError,
    RetryableError,
    UnsupportedMediaTypeError,
)
from shared.handoff import SIGNAL_TRACES

TRANSPORT = "rest"
JSON = "application/json"
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")

Handler = Callable[[web.Request], Awaitable[web.Response]]


class RestIngest:
    """The four REST endpoints; every span they finish goes through `Receiver.export_spans`."""

    def __init__(
        self,
        receiver: Receiver,
        projects: ProjectResolver,
        open_spans: OpenSpans,
        metrics: CollectorMetrics,
        max_request_bytes: int,
        quota: IngestQuota | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self._receiver = receiver
        self._projects = projects
        self._spans = open_spans
        self._quota = quota
        self._metrics = metrics
        self._max_request_bytes = max_request_bytes
        self._clock = clock

    def add_routes(self, app: web.Application) -> None:
        """Register the endpoints on the collector's HTTP application."""
        app.router.add_post("/api/traces", self._handled(self.create_trace))
        app.router.add_post("/api/traces/{trace_id}/spans", self._handled(self.create_span))
        app.router.add_patch("/api/spans/{span_id}/complete", self._handled(self.complete_span))
        app.router.add_patch("/api/traces/{trace_id}/complete", self._handled(self.complete_trace))

    async def create_trace(self, request: web.Request, project_id: str) -> web.Response:
        """POST /api/traces: open a trace and its root span; idempotent for a given `id`."""
        start = parse_trace_start(await self._body(request))
        root = OpenSpan(
            trace_id=start.trace_id or _new_id(16),
            span_id=_new_id(8),
            parent_span_id=None,
            name=start.name,
            kind=TRACE_KIND,
            start_time_unix_nano=start.start_time_unix_nano or self._clock(),
            input=start.input,
            metadata=start.metadata,
            session_id=start.session_id,
            user_id=start.user_id,
            tags=start.tags,
            service_name=start.service_name or DEFAULT_SERVICE,
        )
        existing_root = await self._spans.open_trace(project_id, root)
        if existing_root is not None:
            return _ids(root.trace_id, existing_root, status=200, created=False)
        return _ids(root.trace_id, root.span_id, status=201, created=True)

    async def create_span(self, request: web.Request, project_id: str) -> web.Response:
        """POST /api/traces/{trace_id}/spans: open a span; idempotent for a given `id`."""
        trace_id = _path_id(request, "trace_id", _TRACE_ID)
        start = parse_span_start(await self._body(request))
        root = await self._open_root(project_id, trace_id)
        span = OpenSpan(
            trace_id=trace_id,
            span_id=start.span_id or _new_id(8),
            parent_span_id=start.parent_span_id or root.span_id,
            name=start.name,
            kind=start.kind,
            start_time_unix_nano=start.start_time_unix_nano or self._clock(),
            model=start.model,
            provider=start.provider,
            input=start.input,
            tool_call_id=start.tool_call_id,
            metadata=start.metadata,
            session_id=root.session_id,
            user_id=root.user_id,
            tags=root.tags,
            service_name=root.service_name,
        )
        existing = await self._spans.open_span(project_id, span)
        if existing is None:
            return _ids(trace_id, span.span_id, status=201, created=True)
        if existing.trace_id != trace_id:
            clash = f"span id is already used in trace {existing.trace_id}"
            raise ValidationError([("/id", clash)])
        return _ids(trace_id, span.span_id, status=200, created=False)

    async def complete_span(self, request: web.Request, project_id: str) -> web.Response:
        """PATCH /api/spans/{span_id}/complete."""
        span_id = _path_id(request, "span_id", _SPAN_ID)
        return await self._complete(project_id, span_id, await self._body(request))

    async def complete_trace(self, request: web.Request, project_id: str) -> web.Response:
        """PATCH /api/traces/{trace_id}/complete: complete the trace's root span."""
        trace_id = _path_id(request, "trace_id", _TRACE_ID)
        body = await self._body(request)
        root = await self._open_root(project_id, trace_id)
        return await self._complete(project_id, root.span_id, body)

    async def _complete(
        self, project_id: str, span_id: str, body: Mapping[str, Any]
    ) -> web.Response:
        found = await self._spans.get(project_id, span_id)
        if found is None:
            raise NotFoundError(f"span {span_id} is not open (unknown, or expired)")
        open_span, is_emitted = found
        completion = parse_completion(body, open_span.kind)
        if is_emitted:
            return _completed(open_span, "already_completed")
        end = completion.end_time_unix_nano or max(self._clock(), open_span.start_time_unix_nano)
        if end < open_span.start_time_unix_nano:
            raise ValidationError([("/end_time", "is before the span's start_time")])
        claimed = await self._spans.claim_completion(
            project_id, span_id, completion_to_json(replace(completion, end_time_unix_nano=end))
        )
        if claimed is None:
            raise NotFoundError(f"span {span_id} is not open (unknown, or expired)")
        if claimed.is_emitted:
            return _completed(open_span, "already_completed")
        # The winning completion (ours, or an earlier one not yet handed off) is emitted; if
        # this fails, a retry emits the same span again, which storage stores once.
        span = build_span(
            claimed.span, completion_from_json(claimed.completion), project_id, self._clock()
        )
        await self._receiver.export_spans([span], project_id, TRANSPORT)
        await self._spans.mark_emitted(project_id, span_id)
        return _completed(open_span, "completed")

    async def _open_root(self, project_id: str, trace_id: str) -> OpenSpan:
        root = await self._spans.root_of(project_id, trace_id)
        if root is None:
            raise NotFoundError(
                f"trace {trace_id} is not open: create it with POST /api/traces first "
                "(open traces expire after REST_OPEN_SPAN_TTL_SECONDS)"
            )
        return root

    async def _body(self, request: web.Request) -> Mapping[str, Any]:
        if request.content_type != JSON:
            raise UnsupportedMediaTypeError(
                f"Content-Type {request.content_type or '(none)'!r} is not supported; use {JSON}"
            )
        body = await read_body(request, self._max_request_bytes, request.app[BODY_TIMEOUT_KEY])
        return parse_json_body(body)

    def _handled(self, endpoint: Callable[[web.Request, str], Awaitable[web.Response]]) -> Handler:
        """Authenticate, run, and map errors to JSON responses: this transport's one mapping."""

        async def handle(request: web.Request) -> web.Response:
            started = time.perf_counter()
            outcome = "ok"
            try:
                project_id = await self._projects.resolve(request.headers, TRANSPORT)
                if self._quota is not None and request.method == "POST":
                    # Opening costs a request (it holds state); completing is charged on hand-off.
                    await self._quota.admit(project_id, 0, SIGNAL_TRACES, TRANSPORT)
                return await endpoint(request, project_id)
            except ObservatoryError as exc:
                outcome = type(exc).__name__
                return error_response(exc)
            finally:
                self._metrics.requests.labels(SIGNAL_TRACES, TRANSPORT, outcome).inc()
                self._metrics.request_duration.labels(SIGNAL_TRACES, TRANSPORT).observe(
                    time.perf_counter() - started
                )

        return handle


def error_response(error: ObservatoryError) -> web.Response:
    """`{"error": {"status", "message", "errors"?}}`, with Retry-After when retryable."""
    status = http_status(error)
    body: dict[str, Any] = {"status": status, "message": str(error)}
    if isinstance(error, ValidationError):
        body["errors"] = [
            {"field": pointer or "/", "message": message} for pointer, message in error.problems
        ]
    headers = {}
    if isinstance(error, RetryableError):
        headers["Retry-After"] = str(error.retry_after_seconds)
    return web.json_response({"error": body}, status=status, headers=headers)


def _path_id(request: web.Request, name: str, pattern: re.Pattern[str]) -> str:
    value = request.match_info[name].lower()
    if not pattern.match(value):
        digits = 32 if name == "trace_id" else 16
        raise BadInputError(f"path parameter {name} must be {digits} lowercase hex characters")
    return value


def _new_id(size: int) -> str:
    return secrets.token_bytes(size).hex()


def _ids(trace_id: str, span_id: str, status: int, created: bool) -> web.Response:
    return web.json_response(
        {"trace_id": trace_id, "span_id": span_id, "created": created}, status=status
    )


def _completed(span: OpenSpan, status: str) -> web.Response:
    return web.json_response({"trace_id": span.trace_id, "span_id": span.span_id, "status": status})
