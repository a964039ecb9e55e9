"""The canonical metric data point: one point of one metric, with the fields of its type."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.span import Attributes

GAUGE = "gauge"
SUM = "sum"
HISTOGRAM = "histogram"
EXPONENTIAL_HISTOGRAM = "exponential_histogram"
SUMMARY = "summary"
METRIC_TYPES = (GAUGE, SUM, HISTOGRAM, EXPONENTIAL_HISTOGRAM, SUMMARY)

# OTLP DataPointFlags: the point marks a missing value (e.g. a series that went stale).
FLAG_NO_RECORDED_VALUE = 1


@dataclass(frozen=True, slots=True)
class Exemplar:
    """A sample measurement behind a point, often with the span that recorded it."""

    time_unix_nano: int
    # int for OTLP `as_int`, float for `as_double`.
    value: int | float | None
    trace_id: str = ""
    span_id: str = ""
    filtered_attributes: Attributes = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QuantileValue:
    """One quantile of a summary point."""

    quantile: float
    value: float


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One data point of one metric, times in Unix nanoseconds.

    Fields of the other metric types stay at their empty defaults. NaN and infinite doubles
    become None on the hand-off (JSON has no NaN).
    """

    project_id: str
    metric_name: str
    # One of METRIC_TYPES.
    metric_type: str
    time_unix_nano: int
    start_time_unix_nano: int = 0
    description: str = ""
    unit: str = ""
    attributes: Attributes = field(default_factory=dict)
    flags: int = 0
    # Gauge and sum: int for OTLP `as_int`, float for `as_double`; None when no value was
    # recorded (FLAG_NO_RECORDED_VALUE).
    value: int | float | None = None
    # Sum and histograms: 1 = delta, 2 = cumulative (OTLP AggregationTemporality).
    aggregation_temporality: int = 0
    # Sum only.
    is_monotonic: bool | None = None
    # Histograms and summary.
    count: int | None = None
    sum: float | None = None
    # Histograms.
    min: float | None = None
    max: float | None = None
    # Histogram: len(bucket_counts) == len(explicit_bounds) + 1 when buckets are present.
    bucket_counts: tuple[int, ...] = ()
    explicit_bounds: tuple[float, ...] = ()
    # Exponential histogram: bucket i of a side covers (base**(offset+i), base**(offset+i+1)],
    # base = 2**(2**-scale).
    scale: int | None = None
    zero_count: int | None = None
    zero_threshold: float | None = None
    positive_offset: int | None = None
    positive_bucket_counts: tuple[int, ...] = ()
    negative_offset: int | None = None
    negative_bucket_counts: tuple[int, ...] = ()
    # Summary.
    quantile_values: tuple[QuantileValue, ...] = ()
    exemplars: tuple[Exemplar, ...] = ()
    # Metric.metadata: key/values about the metric itself.
    metadata: Attributes = field(default_factory=dict)
    resource_attributes: Attributes = field(default_factory=dict)
    resource_schema_url: str = ""
    scope_name: str = ""
    scope_version: str = ""
    scope_attributes: Attributes = field(default_factory=dict)
    # Collector receipt time, for freshness measurement.
    received_unix_nano: int = 0
