"""Metrics and logs over OTLP/HTTP and OTLP/gRPC, and OTLP/JSON for all three signals: queued
under their signal, partial success counted and explained, bad bodies refused naming the field."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import grpc
import orjson
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)

from shared.handoff import Batch, decode_entry
from tests.collector.conftest import STREAM, CollectorUnderTest
from tests.collector.test_otlp_grpc import call
from tests.shared.otlp_samples import logs_request, metrics_request

CORPUS = Path(__file__).resolve().parents[2] / "test-data" / "llm-corpus"
PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}
METRICS_METHOD = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
LOGS_METHOD = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


async def queued(collector: CollectorUnderTest) -> list[Batch]:
    return [decode_entry(fields) for _, fields in await collector.redis.xrange(STREAM)]


def without_receipt(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in record.items() if k != "received_unix_nano"} for record in records]


async def test_metrics_and_logs_over_http_are_queued_under_their_signal(
    collector: CollectorUnderTest,
) -> None:
    for path, body in (("/v1/metrics", metrics_request()), ("/v1/logs", logs_request())):
        response = await collector.http.post(path, data=body.SerializeToString(), headers=PROTOBUF)
        assert response.status == 200
        assert response.content_type == "application/x-protobuf"
        assert await response.read() == b""  # an Export*ServiceResponse without partial_success
    metrics, logs = await queued(collector)
    assert (metrics.signal, len(metrics.records)) == ("metrics", 7)
    assert (logs.signal, len(logs.records)) == ("logs", 3)
    assert metrics.records[0]["metric_name"] == "queue.depth"
    assert logs.records[0]["trace_id"] == "0af7651916cd43dd8448eb211c80319c"


async def test_metrics_and_logs_over_grpc_are_queued(collector: CollectorUnderTest) -> None:
    body = metrics_request().SerializeToString()
    reply = await call(collector.grpc_target, body, method=METRICS_METHOD)
    assert not ExportMetricsServiceResponse.FromString(reply).HasField("partial_success")
    body = logs_request().SerializeToString()
    await call(collector.grpc_target, body, grpc.Compression.Gzip, method=LOGS_METHOD)
    assert [(b.signal, len(b.records)) for b in await queued(collector)] == [
        ("metrics", 7), ("logs", 3),
    ]  # fmt: skip


async def test_partial_success_counts_rejected_points_and_log_records(
    collector: CollectorUnderTest,
) -> None:
    metrics = metrics_request()
    metrics.resource_metrics[0].scope_metrics[0].metrics[2].histogram.data_points[0].count = 9
    response = await collector.http.post(
        "/v1/metrics", data=metrics.SerializeToString(), headers=PROTOBUF
    )
    parsed = ExportMetricsServiceResponse.FromString(await response.read())
    assert parsed.partial_success.rejected_data_points == 1
    assert parsed.partial_success.error_message == (
        "1 data point(s): count must equal the sum of bucket_counts"
    )
    logs = logs_request()
    for record in logs.resource_logs[0].scope_logs[0].log_records[:2]:
        record.span_id = b"\x01\x02"
    reply = ExportLogsServiceResponse.FromString(
        await call(collector.grpc_target, logs.SerializeToString(), method=LOGS_METHOD)
    )
    assert reply.partial_success.rejected_log_records == 2
    assert reply.partial_success.error_message == (
        "2 log record(s): span_id must be empty or 8 bytes"
    )
    assert [(b.signal, len(b.records)) for b in await queued(collector)] == [
        ("metrics", 6), ("logs", 1),
    ]  # fmt: skip


async def test_malformed_metrics_and_logs_are_invalid_argument(
    collector: CollectorUnderTest,
) -> None:
    for method, body, words in (
        (METRICS_METHOD, metrics_request().SerializeToString()[:-3],
         "not a valid ExportMetricsServiceRequest protobuf"),
        (LOGS_METHOD, logs_request().SerializeToString().replace(b"INFO", b"IN\xffO"),
         "string field resource_logs[0].scope_logs[0].log_records[0].severity_text is not valid"),
    ):  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(collector.grpc_target, body, method=method)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert words in (caught.value.details() or "")
    assert await queued(collector) == []


async def post_status(
    collector: CollectorUnderTest, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str, str]:
    """POST and return (status, response content type, error message)."""
    response = await collector.http.post(path, data=body, headers=headers)
    raw = await response.read()
    if response.content_type == "application/x-protobuf":
        return response.status, response.content_type, status_pb2.Status.FromString(raw).message
    return response.status, response.content_type, orjson.loads(raw)["message"]


async def test_bad_bodies_get_a_4xx_in_the_request_encoding(collector: CollectorUnderTest) -> None:
    logs = logs_request().SerializeToString()
    assert await post_status(collector, "/v1/logs", logs, {"Content-Type": "text/plain"}) == (
        415, "application/json",
        "Content-Type 'text/plain' is not supported; use application/x-protobuf or"
        " application/json",
    )  # fmt: skip
    status, content_type, message = await post_status(
        collector, "/v1/metrics", metrics_request().SerializeToString()[:-3], PROTOBUF
    )
    assert (status, content_type) == (400, "application/x-protobuf")
    assert "not a valid ExportMetricsServiceRequest protobuf" in message
    status, _, message = await post_status(
        collector, "/v1/logs", logs.replace(b"ERROR", b"ERR\xc3R"), PROTOBUF
    )
    assert (status, message) == (
        400, "body is not a valid ExportLogsServiceRequest protobuf: string field"
        " resource_logs[0].scope_logs[0].log_records[1].severity_text is not valid UTF-8",
    )  # fmt: skip
    document = orjson.loads((CORPUS / "otel-genai-v2" / "chat.otlp.json").read_bytes())
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = "t61rcWkgMzE="
    status, content_type, message = await post_status(
        collector, "/v1/traces", orjson.dumps(document), JSON
    )
    assert (status, content_type) == (400, "application/json")
    assert message.startswith("resourceSpans[0].scopeSpans[0].spans[0].spanId: 't61rcWkgMzE='")
    assert "must be hex-encoded" in message
    status, _, message = await post_status(collector, "/v1/metrics", b"{not json", JSON)
    assert (status, message[:25]) == (400, "body is not valid JSON: u")
    assert await queued(collector) == []


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/traces", "traceloop/tool_call.otlp"),
        ("/v1/metrics", "traceloop/tool_call.metrics.otlp"),
        ("/v1/logs", "otel-genai-v2-latest/tool_call.logs.otlp"),
    ],
)
async def test_json_bodies_queue_what_their_protobuf_twins_queue(
    collector: CollectorUnderTest, path: str, name: str
) -> None:
    json_body = (CORPUS / f"{name}.json").read_bytes()
    response = await collector.http.post(
        path, data=gzip.compress(json_body), headers={**JSON, "Content-Encoding": "gzip"}
    )
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {}
    response = await collector.http.post(
        path, data=(CORPUS / f"{name}.pb").read_bytes(), headers=PROTOBUF
    )
    assert response.status == 200
    from_json, from_protobuf = await queued(collector)
    assert from_json.signal == from_protobuf.signal == path.rsplit("/", 1)[1]
    assert without_receipt(from_json.records) == without_receipt(from_protobuf.records) != []


async def test_json_partial_success_is_answered_in_json(collector: CollectorUnderTest) -> None:
    document = orjson.loads((CORPUS / "otel-genai-v2" / "tool_call.otlp.json").read_bytes())
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[0]["traceId"] = "00" * 16
    spans[1]["spanId"] = "abcd"
    response = await collector.http.post("/v1/traces", data=orjson.dumps(document), headers=JSON)
    assert response.status == 200
    assert await response.json() == {
        "partialSuccess": {
            "rejectedSpans": "2",
            "errorMessage": "1 span(s): trace_id must be 16 non-zero bytes;"
            " 1 span(s): span_id must be 8 non-zero bytes",
        }
    }
    total = sum(
        len(scope["spans"]) for rs in document["resourceSpans"] for scope in rs["scopeSpans"]
    )
    (batch,) = await queued(collector)
    assert len(batch.records) == total - 2
