"""Decoding ExportMetricsServiceRequest: every metric type's fields, and malformed points rejected
one by one with a reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1 import metrics_pb2

from shared.metric_point import Exemplar, MetricPoint, QuantileValue
from shared.otlp.metrics import decode_metrics_request
from tests.shared.otlp_samples import T0, metrics_request

CORPUS = Path(__file__).resolve().parents[2] / "test-data" / "llm-corpus"
SCOPE = {
    "project_id": "proj", "resource_attributes": {"service.name": "metrics-app"},
    "resource_schema_url": "https://opentelemetry.io/schemas/1.26.0",
    "scope_name": "tests.metrics", "scope_version": "2.0", "scope_attributes": {"scope.attr": True},
    "received_unix_nano": 42,
}  # fmt: skip


def points_by_name() -> dict[str, list[MetricPoint]]:
    decoded = decode_metrics_request(metrics_request(), "proj", 42)
    assert decoded.rejected == 0
    found: dict[str, list[MetricPoint]] = {}
    for point in decoded.points:
        found.setdefault(point.metric_name, []).append(point)
    return found


def test_gauges_keep_int_and_double_values_and_metric_metadata() -> None:
    exact, double = points_by_name()["queue.depth"]
    assert exact == MetricPoint(
        **SCOPE, metric_name="queue.depth", metric_type="gauge", time_unix_nano=T0,
        description="Items queued", unit="{item}", attributes={"queue": "a"},
        value=-(2**62), metadata={"origin": "test"},
    )  # fmt: skip
    assert isinstance(exact.value, int)
    assert double.value == 0.25 and isinstance(double.value, float)
    assert double.attributes == {"queue": "b"}
    assert (double.aggregation_temporality, double.is_monotonic) == (0, None)


def test_sum_keeps_temporality_monotonicity_and_no_recorded_value() -> None:
    recorded, missing = points_by_name()["gen_ai.requests"]
    assert (recorded.metric_type, recorded.value, recorded.start_time_unix_nano) == (
        "sum", 3, T0 - 10**9,
    )  # fmt: skip
    assert (recorded.aggregation_temporality, recorded.is_monotonic) == (1, True)
    assert (missing.value, missing.flags) == (None, 1)


def test_histogram_keeps_buckets_bounds_sum_min_max_and_exemplars() -> None:
    (point,) = points_by_name()["gen_ai.client.token.usage"]
    assert point.metric_type == "histogram"
    assert point.aggregation_temporality == 2
    assert (point.count, point.sum, point.min, point.max) == (3, 431.5, 1.5, 400.0)
    assert point.bucket_counts == (1, 0, 2)
    assert point.explicit_bounds == (10.0, 100.0)
    assert point.exemplars == (
        Exemplar(T0 - 5, 400.0, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331",
                 {"user": "u1"}),
    )  # fmt: skip


def test_exponential_histogram_keeps_scale_zero_bucket_and_both_sides() -> None:
    (point,) = points_by_name()["gen_ai.client.operation.duration"]
    assert point.metric_type == "exponential_histogram"
    assert (point.count, point.sum, point.min, point.max) == (6, 2.5, 0.0, 1.25)
    assert (point.scale, point.zero_count, point.zero_threshold) == (3, 1, 1e-9)
    assert (point.positive_offset, point.positive_bucket_counts) == (-2, (1, 2, 1))
    assert (point.negative_offset, point.negative_bucket_counts) == (4, (1,))
    assert point.bucket_counts == () and point.explicit_bounds == ()


def test_summary_keeps_count_sum_and_quantiles() -> None:
    (point,) = points_by_name()["latency.summary"]
    assert (point.metric_type, point.count, point.sum) == ("summary", 10, 55.5)
    assert point.quantile_values == (QuantileValue(0.5, 4.0), QuantileValue(0.99, 12.5))
    assert point.min is None and point.aggregation_temporality == 0


def test_optional_histogram_sum_min_max_stay_absent() -> None:
    request = metrics_request()
    metric = request.resource_metrics[0].scope_metrics[0].metrics[2]
    for name in ("sum", "min", "max"):
        metric.histogram.data_points[0].ClearField(name)
    (point,) = [
        p for p in decode_metrics_request(request, "p", 0).points if p.metric_type == "histogram"
    ]
    assert (point.sum, point.min, point.max) == (None, None, None)


def metric(request: ExportMetricsServiceRequest, index: int) -> metrics_pb2.Metric:
    return request.resource_metrics[0].scope_metrics[0].metrics[index]


Breakage = Callable[[ExportMetricsServiceRequest], None]
BREAKAGES: list[tuple[str, Breakage, str, int]] = [
    ("no name", lambda r: setattr(metric(r, 0), "name", ""), "metric name is missing", 2),
    ("no time", lambda r: setattr(metric(r, 0).gauge.data_points[0], "time_unix_nano", 0),
     "time_unix_nano is missing", 1),
    ("time past int64", lambda r: setattr(metric(r, 0).gauge.data_points[1], "time_unix_nano",
     2**64 - 1), "time_unix_nano or start_time_unix_nano is out of range", 1),
    ("start after time", lambda r: setattr(metric(r, 1).sum.data_points[0],
     "start_time_unix_nano", T0 + 1), "start_time_unix_nano is after time_unix_nano", 1),
    ("no value", lambda r: setattr(metric(r, 1).sum.data_points[1], "flags", 0),
     "value is missing", 1),
    ("unspecified temporality", lambda r: setattr(metric(r, 1).sum, "aggregation_temporality", 0),
     "aggregation_temporality must be DELTA (1) or CUMULATIVE (2)", 2),
    ("bucket count mismatch", lambda r: metric(r, 2).histogram.data_points[0].bucket_counts
     .append(0), "bucket_counts must have one more entry than explicit_bounds", 1),
    ("bounds not increasing", lambda r: metric(r, 2).histogram.data_points[0].explicit_bounds
     .__setitem__(1, 5.0), "explicit_bounds must be strictly increasing", 1),
    ("count differs", lambda r: setattr(metric(r, 2).histogram.data_points[0], "count", 4),
     "count must equal the sum of bucket_counts", 1),
    ("exemplar trace id", lambda r: setattr(metric(r, 2).histogram.data_points[0].exemplars[0],
     "trace_id", b"\x01" * 15), "exemplar trace_id/span_id must be empty or 16/8 bytes", 1),
    ("bucket count past int64", lambda r: metric(r, 2).histogram.data_points[0].bucket_counts
     .__setitem__(0, 2**63), "count or bucket_counts is out of range", 1),
    ("scale", lambda r: setattr(metric(r, 3).exponential_histogram.data_points[0], "scale", 21),
     "scale must be between -10 and 20", 1),
    ("exponential count", lambda r: setattr(metric(r, 3).exponential_histogram.data_points[0],
     "zero_count", 2), "count must equal zero_count plus the positive and negative bucket", 1),
    ("quantile", lambda r: setattr(metric(r, 4).summary.data_points[0].quantile_values[1],
     "quantile", 1.5), "quantile must be between 0 and 1", 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("breakage", "reason", "rejected"),
    [pytest.param(b, reason, n, id=name) for name, b, reason, n in BREAKAGES],
)
def test_malformed_points_are_rejected_alone_with_their_reason(
    breakage: Breakage, reason: str, rejected: int
) -> None:
    request = metrics_request()
    breakage(request)
    decoded = decode_metrics_request(request, "p", 0)
    assert decoded.rejected == rejected
    assert len(decoded.points) == 7 - rejected
    assert reason in decoded.message()
    assert decoded.message().startswith(f"{rejected} data point(s): ")


def test_a_metric_without_data_is_neither_accepted_nor_rejected() -> None:
    request = metrics_request()
    request.resource_metrics[0].scope_metrics[0].metrics.add(name="empty")
    decoded = decode_metrics_request(request, "p", 0)
    assert (len(decoded.points), decoded.rejected) == (7, 0)


def test_real_instrumentation_metric_exports_decode() -> None:
    files = sorted(CORPUS.glob("*/*.metrics.otlp.pb"))
    assert len(files) >= 16, "the corpus is part of the repository"
    for path in files:
        request = ExportMetricsServiceRequest.FromString(path.read_bytes())
        decoded = decode_metrics_request(request, "p", 0)
        expected = sum(
            len(getattr(m, m.WhichOneof("data")).data_points)
            for rm in request.resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
        )
        assert decoded.rejected == 0, (path, decoded.message())
        assert len(decoded.points) == expected > 0, path
    chat = CORPUS / "otel-genai-v2" / "chat.metrics.otlp.pb"
    points = decode_metrics_request(
        ExportMetricsServiceRequest.FromString(chat.read_bytes()), "p", 0
    ).points
    usage = {
        p.attributes["gen_ai.token.type"]: p
        for p in points
        if p.metric_name == "gen_ai.client.token.usage"
    }
    assert (usage["input"].sum, usage["output"].sum) == (431, 97)  # the scenario's usage
    assert usage["input"].metric_type == "histogram" and usage["input"].count == 1
