"""OTLP/gRPC receiver (trace, metrics and logs services on 4317), mapping errors to codes."""

from __future__ import annotations

import logging
import time
from typing import Any, NoReturn

import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2

from services.collector.admission import InflightBytes
from services.collector.metrics import CollectorMetrics
from services.collector.projects import ProjectResolver
from services.collector.receive import Receiver
from services.collector.signals import SIGNALS, OtlpSignal
from shared.errors import (
    BadInputError,
    ConfigError,
    ObservatoryError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ProcessingError,
    RetryableError,
    ThrottledError,
    UnauthenticatedError,
)
from shared.otlp.protobuf import parse_protobuf

log = logging.getLogger(__name__)
TRANSPORT = "grpc"


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


class ExportService:
    """`<signal service>/Export` of one signal (e.g. `...trace.v1.TraceService/Export`).

    The request arrives as raw bytes and is parsed here, so that a malformed message is answered
    INVALID_ARGUMENT with a reason rather than grpc's generic deserialisation failure.
    """

    def __init__(
        self,
        signal: OtlpSignal[Any],
        receiver: Receiver,
        projects: ProjectResolver,
        metrics: CollectorMetrics,
        inflight: InflightBytes,
    ) -> None:
        self._signal = signal
        self._inflight = inflight
        self._receiver = receiver
        self._projects = projects
        self._metrics = metrics

    async def export(self, body: bytes, context: grpc.aio.ServicerContext) -> Message:
        """Accept the records; answer success only once they are queued."""
        signal = self._signal
        started = time.perf_counter()
        outcome_label = "ok"
        try:
            project_id = await self._projects.resolve(
                context.invocation_metadata() or (), TRANSPORT
            )
            with self._inflight.reserve(len(body)):
                async with self._inflight.turn():
                    request = parse_protobuf(body, signal.request_type)
                    outcome = await signal.export(self._receiver, request, project_id, TRANSPORT)
        except ObservatoryError as exc:
            outcome_label = type(exc).__name__
            await abort_with(context, exc)
        finally:
            self._metrics.requests.labels(signal.name, TRANSPORT, outcome_label).inc()
            self._metrics.request_duration.labels(signal.name, TRANSPORT).observe(
                time.perf_counter() - started
            )
        return signal.response(outcome)


def build_server(
    receiver: Receiver,
    projects: ProjectResolver,
    metrics: CollectorMetrics,
    host: str,
    port: int,
    max_request_bytes: int,
    inflight: InflightBytes,
    reuse_port: bool = False,
) -> tuple[grpc.aio.Server, int]:
    """A grpc.aio server with the trace, metrics and logs services; returns it and its port."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", max_request_bytes),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
            # grpc enables SO_REUSEPORT by default: a second collector on the port would start
            # silently beside the first. Only when asked for.
            ("grpc.so_reuseport", int(reuse_port)),
        ]
    )
    for signal in SIGNALS:
        handler = grpc.unary_unary_rpc_method_handler(
            ExportService(signal, receiver, projects, metrics, inflight).export,
            request_deserializer=None,
            response_serializer=signal.response_type.SerializeToString,
        )
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(signal.grpc_service, {"Export": handler}),)
        )
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError as exc:  # grpc's "Failed to bind": the port is taken or not ours
        raise ConfigError(
            f"cannot listen for OTLP/gRPC on {host}:{port} (COLLECTOR_GRPC_PORT): the address is"
            " in use or unavailable; several collectors share it only with COLLECTOR_REUSE_PORT"
        ) from exc
    return server, bound
