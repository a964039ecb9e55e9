"""Decoding of ExportMetricsServiceRequest into canonical metric points, rejecting bad ones."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1 import metrics_pb2

from shared.metric_point import (
    EXPONENTIAL_HISTOGRAM,
    FLAG_NO_RECORDED_VALUE,
    GAUGE,
    HISTOGRAM,
    SUM,
    SUMMARY,
    Exemplar,
    MetricPoint,
    QuantileValue,
)
from shared.otlp.anyvalue import attributes_to_dict
from shared.otlp.rejections import INT64_MAX, Rejections

# OTLP AggregationTemporality: UNSPECIFIED (0) must not be used for sums and histograms.
_TEMPORALITIES = (1, 2)
# The exponential histogram scales the specification defines (base 2**(2**-scale)).
_MIN_SCALE, _MAX_SCALE = -10, 20

# Fields of one point as keyword arguments of MetricPoint, for the type at hand.
_Fields = dict[str, Any]


@dataclass(slots=True)
class DecodedMetrics(Rejections):
    """The data points of one request that were accepted, and why others were rejected."""

    NOUN: ClassVar[str] = "data point"

    points: list[MetricPoint] = field(default_factory=list)


def decode_metrics_request(
    request: ExportMetricsServiceRequest, project_id: str, received_unix_nano: int
) -> DecodedMetrics:
    """Decode every data point of the request; malformed points are rejected one by one."""
    result = DecodedMetrics()
    for resource_metrics in request.resource_metrics:
        resource = {
            "resource_attributes": attributes_to_dict(resource_metrics.resource.attributes),
            "resource_schema_url": resource_metrics.schema_url,
        }
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope
            common = {
                **resource,
                "project_id": project_id,
                "scope_name": scope.name,
                "scope_version": scope.version,
                "scope_attributes": attributes_to_dict(scope.attributes),
                "received_unix_nano": received_unix_nano,
            }
            for metric in scope_metrics.metrics:
                _decode_metric(metric, common, result)
    return result


def _decode_metric(metric: metrics_pb2.Metric, common: _Fields, result: DecodedMetrics) -> None:
    kind = metric.WhichOneof("data")
    if kind is None:
        return  # a metric without data carries no point to accept or reject
    metric_type, decode = _DECODERS[kind]
    data = getattr(metric, kind)
    shared = {
        **common,
        "metric_name": metric.name,
        "metric_type": metric_type,
        "description": metric.description,
        "unit": metric.unit,
        "metadata": attributes_to_dict(metric.metadata),
        **_stream_fields(kind, data),
    }
    metric_reason = _metric_reason(metric, kind, data)
    for point in data.data_points:
        fields = metric_reason or _point_reason(point) or decode(point)
        if isinstance(fields, str):
            result.reject(fields)
            continue
        result.points.append(
            MetricPoint(
                **shared,
                **fields,
                start_time_unix_nano=point.start_time_unix_nano,
                time_unix_nano=point.time_unix_nano,
                attributes=attributes_to_dict(point.attributes),
                flags=point.flags,
            )
        )


def _stream_fields(kind: str, data: Any) -> _Fields:
    """Fields every point of the metric shares: temporality, monotonicity."""
    if kind == "sum":
        return {
            "aggregation_temporality": data.aggregation_temporality,
            "is_monotonic": data.is_monotonic,
        }
    if kind in ("histogram", "exponential_histogram"):
        return {"aggregation_temporality": data.aggregation_temporality}
    return {}


def _metric_reason(metric: metrics_pb2.Metric, kind: str, data: Any) -> str:
    """Why no point of the metric can be stored, or '' when they may be."""
    if not metric.name:
        return "metric name is missing"
    if kind in ("sum", "histogram", "exponential_histogram") and (
        data.aggregation_temporality not in _TEMPORALITIES
    ):
        return "aggregation_temporality must be DELTA (1) or CUMULATIVE (2)"
    return ""


def _point_reason(point: Any) -> str:
    """Why a point of any type cannot be stored, or '' when it can."""
    if point.time_unix_nano == 0:
        return "time_unix_nano is missing"
    if point.time_unix_nano > INT64_MAX or point.start_time_unix_nano > INT64_MAX:
        return "time_unix_nano or start_time_unix_nano is out of range"
    if point.start_time_unix_nano > point.time_unix_nano:
        return "start_time_unix_nano is after time_unix_nano"
    for exemplar in getattr(point, "exemplars", ()):
        if len(exemplar.trace_id) not in (0, 16) or len(exemplar.span_id) not in (0, 8):
            return "exemplar trace_id/span_id must be empty or 16/8 bytes"
        if exemplar.time_unix_nano > INT64_MAX:
            return "exemplar time_unix_nano is out of range"
    return ""


def _number(point: metrics_pb2.NumberDataPoint) -> _Fields | str:
    kind = point.WhichOneof("value")
    if kind is None and not point.flags & FLAG_NO_RECORDED_VALUE:
        return "value is missing (neither as_double nor as_int)"
    value = None if kind is None else getattr(point, kind)
    return {"value": value, "exemplars": _exemplars(point.exemplars)}


def _histogram(point: metrics_pb2.HistogramDataPoint) -> _Fields | str:
    counts = tuple(point.bucket_counts)
    bounds = tuple(point.explicit_bounds)
    if counts and len(counts) != len(bounds) + 1:
        return "bucket_counts must have one more entry than explicit_bounds"
    if any(upper <= lower for lower, upper in itertools.pairwise(bounds)):
        return "explicit_bounds must be strictly increasing"
    reason = _count_reason(point.count, counts)
    if reason:
        return reason
    if counts and sum(counts) != point.count:
        return "count must equal the sum of bucket_counts"
    return {
        **_distribution(point),
        "bucket_counts": counts,
        "explicit_bounds": bounds,
    }


def _exponential_histogram(point: metrics_pb2.ExponentialHistogramDataPoint) -> _Fields | str:
    if not _MIN_SCALE <= point.scale <= _MAX_SCALE:
        return f"scale must be between {_MIN_SCALE} and {_MAX_SCALE}"
    positive = tuple(point.positive.bucket_counts)
    negative = tuple(point.negative.bucket_counts)
    reason = _count_reason(point.count, (point.zero_count, *positive, *negative))
    if reason:
        return reason
    if point.zero_count + sum(positive) + sum(negative) != point.count:
        return "count must equal zero_count plus the positive and negative bucket counts"
    return {
        **_distribution(point),
        "scale": point.scale,
        "zero_count": point.zero_count,
        "zero_threshold": point.zero_threshold,
        "positive_offset": point.positive.offset,
        "positive_bucket_counts": positive,
        "negative_offset": point.negative.offset,
        "negative_bucket_counts": negative,
    }


def _summary(point: metrics_pb2.SummaryDataPoint) -> _Fields | str:
    reason = _count_reason(point.count, ())
    if reason:
        return reason
    quantiles = tuple(QuantileValue(q.quantile, q.value) for q in point.quantile_values)
    if any(not 0.0 <= q.quantile <= 1.0 for q in quantiles):
        return "quantile must be between 0 and 1"
    return {"count": point.count, "sum": point.sum, "quantile_values": quantiles}


def _count_reason(count: int, bucket_counts: Iterable[int]) -> str:
    if count > INT64_MAX or max(bucket_counts, default=0) > INT64_MAX:
        return "count or bucket_counts is out of range"
    return ""


def _distribution(
    point: metrics_pb2.HistogramDataPoint | metrics_pb2.ExponentialHistogramDataPoint,
) -> _Fields:
    """Count, the optional sum/min/max, and exemplars, common to both histogram kinds."""
    return {
        "count": point.count,
        "sum": point.sum if point.HasField("sum") else None,
        "min": point.min if point.HasField("min") else None,
        "max": point.max if point.HasField("max") else None,
        "exemplars": _exemplars(point.exemplars),
    }


def _exemplars(exemplars: Iterable[metrics_pb2.Exemplar]) -> tuple[Exemplar, ...]:
    return tuple(
        Exemplar(
            time_unix_nano=exemplar.time_unix_nano,
            value=_exemplar_value(exemplar),
            trace_id=exemplar.trace_id.hex(),
            span_id=exemplar.span_id.hex(),
            filtered_attributes=attributes_to_dict(exemplar.filtered_attributes),
        )
        for exemplar in exemplars
    )


def _exemplar_value(exemplar: metrics_pb2.Exemplar) -> int | float | None:
    kind = exemplar.WhichOneof("value")
    return None if kind is None else getattr(exemplar, kind)


# OTLP `Metric.data` field -> (metric type, decoder of one point's type-specific fields).
_DECODERS: dict[str, tuple[str, Callable[[Any], _Fields | str]]] = {
    "gauge": (GAUGE, _number),
    "sum": (SUM, _number),
    "histogram": (HISTOGRAM, _histogram),
    "exponential_histogram": (EXPONENTIAL_HISTOGRAM, _exponential_histogram),
    "summary": (SUMMARY, _summary),
}
