"""OTLP/gRPC receiver (TraceService on 4317), translating the receive core's errors to codes."""

from __future__ import annotations

import logging
import time
from typing import NoReturn

import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from services.collector.metrics import CollectorMetrics
from services.collector.projects import ProjectResolver
from services.collector.receive import SIGNAL_TRACES, Receiver
from shared.errors import (
    BadInputError,
    ObservatoryError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ProcessingError,
    RetryableError,
    ThrottledError,
    UnauthenticatedError,
)

log = logging.getLogger(__name__)
TRANSPORT = "grpc"
_TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"


def parse_request(body: bytes) -> trace_service_pb2.ExportTraceServiceRequest:
    """Parse the serialized request; BadInputError names what is wrong."""
    request = trace_service_pb2.ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise BadInputError(f"message is not a valid ExportTraceServiceRequest: {exc}") from exc
    return request


def grpc_status(error: ObservatoryError) -> tuple[grpc.StatusCode, int]:
    """The gRPC status for an error kind (OTLP spec: retryable codes carry RetryInfo)."""
    if isinstance(error, ThrottledError | PayloadTooLargeError):
        return grpc.StatusCode.RESOURCE_EXHAUSTED, code_pb2.RESOURCE_EXHAUSTED
    if isinstance(error, RetryableError):
        return grpc.StatusCode.UNAVAILABLE, code_pb2.UNAVAILABLE
    if isinstance(error, UnauthenticatedError):
        return grpc.StatusCode.UNAUTHENTICATED, code_pb2.UNAUTHENTICATED
    if isinstance(error, PermissionDeniedError):
        return grpc.StatusCode.PERMISSION_DENIED, code_pb2.PERMISSION_DENIED
    if isinstance(error, BadInputError):
        return grpc.StatusCode.INVALID_ARGUMENT, code_pb2.INVALID_ARGUMENT
    if isinstance(error, ProcessingError):
        return grpc.StatusCode.INTERNAL, code_pb2.INTERNAL
    return grpc.StatusCode.INTERNAL, code_pb2.INTERNAL


async def abort_with(context: grpc.aio.ServicerContext, error: ObservatoryError) -> NoReturn:
    """Abort the call with the mapped status, a message, and RetryInfo when retryable."""
    code, rpc_code = grpc_status(error)
    if isinstance(error, RetryableError):
        status = status_pb2.Status(code=rpc_code, message=str(error))
        status.details.add().Pack(
            error_details_pb2.RetryInfo(retry_delay=Duration(seconds=error.retry_after_seconds))
        )
        context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
    await context.abort(code, str(error))
    raise AssertionError("grpc.aio context.abort returned")


class TraceService:
    """`opentelemetry.proto.collector.trace.v1.TraceService/Export`.

    The request arrives as raw bytes and is parsed here, so that a malformed message is answered
    INVALID_ARGUMENT with a reason rather than grpc's generic deserialisation failure.
    """

    def __init__(
        self, receiver: Receiver, projects: ProjectResolver, metrics: CollectorMetrics
    ) -> None:
        self._receiver = receiver
        self._projects = projects
        self._metrics = metrics

    async def export(
        self, body: bytes, context: grpc.aio.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        """Accept spans; answer success only once they are queued."""
        started = time.perf_counter()
        outcome_label = "ok"
        try:
            project_id = await self._projects.resolve(
                context.invocation_metadata() or (), TRANSPORT
            )
            request = parse_request(body)
            outcome = await self._receiver.export_traces(request, project_id, TRANSPORT)
        except ObservatoryError as exc:
            outcome_label = type(exc).__name__
            await abort_with(context, exc)
        finally:
            self._metrics.requests.labels(SIGNAL_TRACES, TRANSPORT, outcome_label).inc()
            self._metrics.request_duration.labels(SIGNAL_TRACES, TRANSPORT).observe(
                time.perf_counter() - started
            )
        response = trace_service_pb2.ExportTraceServiceResponse()
        if outcome.rejected:
            response.partial_success.rejected_spans = outcome.rejected
            response.partial_success.error_message = outcome.message
        return response


def build_server(
    service: TraceService, host: str, port: int, max_request_bytes: int
) -> tuple[grpc.aio.Server, int]:
    """A grpc.aio server with the trace service bound; returns it with the bound port."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", max_request_bytes),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
        ]
    )
    handler = grpc.unary_unary_rpc_method_handler(
        service.export,
        request_deserializer=None,
        response_serializer=trace_service_pb2.ExportTraceServiceResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(_TRACE_SERVICE, {"Export": handler}),)
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    return server, bound
