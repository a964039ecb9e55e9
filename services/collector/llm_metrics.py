"""llm_metrics: the `llm_*` usage metrics of counted LLM calls, recorded where the pipeline says.

A stage, not a processor: it keeps the label values admitted so far, so that each label has a
bounded set of values (`max_projects`, `max_models`, ...). A value that arrives when its label
is full is recorded as `other`; one that is missing as `unknown`. The admitted values outlive
pipeline reloads (the series they created stay exported), so a lowered cap applies to new values
only. The step passes its batch on unchanged; it records the calls as they are at its position,
so it must precede any step that drops spans (`sample`).

Labels: project, provider, model (the requested model, else the response model: errors and
successes of one request share a series), operation. Only counted calls (`llm.is_counted`, one
per provider request) are recorded. Tokens carry `type` (input, output, cache_read, cache_write,
reasoning; input includes cache, output includes reasoning, as in OTel) and `source` (reported
or estimated). Unpriced calls carry `reason`: no_usage, no_price, invalid_usage, or not_priced (no
`price` step ran before this one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from services.collector.processors.base import Processor
from services.collector.processors.settings import SettingsReader
from shared.span import LLMCall, Span

STEP_TYPE = "llm_metrics"
OTHER = "other"
UNKNOWN = "unknown"
LABELS = ("project", "provider", "model", "operation")
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
_STATUS_ERROR = 2
_TOKEN_FIELDS = (
    ("input", "input_tokens"),
    ("output", "output_tokens"),
    ("cache_read", "cache_read_tokens"),
    ("cache_write", "cache_write_tokens"),
    ("reasoning", "reasoning_tokens"),
)


@dataclass(frozen=True, slots=True)
class LLMMetricsConfig:
    """How many distinct values each label may take before new ones read as `other`."""

    max_projects: int = 100
    max_providers: int = 50
    max_models: int = 200
    max_operations: int = 50

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> LLMMetricsConfig:
        """Build from the step's settings; ValueError names every bad key."""
        problems: list[str] = []
        reader = SettingsReader(mapping, "", problems)
        keys = ("max_projects", "max_providers", "max_models", "max_operations")
        reader.reject_unknown(keys)
        defaults = cls()
        limits = {key: reader.integer(key, getattr(defaults, key), minimum=1) for key in keys}
        if problems:
            raise ValueError("; ".join(problems))
        return cls(**limits)

    def limits(self) -> dict[str, int]:
        """The cap of each label of LABELS."""
        return {
            "project": self.max_projects,
            "provider": self.max_providers,
            "model": self.max_models,
            "operation": self.max_operations,
        }


class LabelCap:
    """The values of one label admitted so far; past `limit` distinct values, others are `other`."""

    def __init__(self) -> None:
        self._admitted: set[str] = set()

    def label(self, value: str | None, limit: int) -> str:
        """The label value to record `value` under."""
        if not value:
            return UNKNOWN
        if value in self._admitted:
            return value
        if len(self._admitted) >= limit:
            return OTHER
        self._admitted.add(value)
        return value


class LLMMetrics:
    """The llm_* metric families on a registry, and the bounded label values they have used."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.requests = Counter("llm_requests_total", "Counted LLM calls.", LABELS, registry=r)
        self.tokens = Counter(
            "llm_tokens_total", "Tokens of counted LLM calls, by type and source.",
            [*LABELS, "type", "source"], registry=r,
        )  # fmt: skip
        self.cost = Counter(
            "llm_cost_usd_total", "Computed cost of priced LLM calls in USD.", LABELS, registry=r
        )
        self.duration = Histogram(
            "llm_duration_seconds", "Duration of LLM call spans.", LABELS,
            buckets=DURATION_BUCKETS, registry=r,
        )  # fmt: skip
        self.time_to_first_token = Histogram(
            "llm_time_to_first_token_seconds", "Time to the first streamed token.", LABELS,
            buckets=TTFT_BUCKETS, registry=r,
        )  # fmt: skip
        self.errors = Counter("llm_errors_total", "LLM calls that failed.", LABELS, registry=r)
        self.unpriced = Counter(
            "llm_unpriced_requests_total", "Counted LLM calls without a computed cost, by reason.",
            [*LABELS, "reason"], registry=r,
        )  # fmt: skip
        self.label_overflows = Counter(
            "collector_llm_label_overflows_total",
            "LLM calls recorded under `other` because a label had reached its cap.", ["label"],
            registry=r,
        )  # fmt: skip
        self._caps = {label: LabelCap() for label in LABELS}

    def build_step(self, mapping: Mapping[str, Any]) -> Processor:
        """The pipeline step: record the batch's counted calls, pass the batch on unchanged."""
        config = LLMMetricsConfig.from_mapping(mapping)

        def llm_metrics(spans: Sequence[Span]) -> list[Span]:
            self.record(spans, config)
            return list(spans)

        return llm_metrics

    def record(self, spans: Sequence[Span], config: LLMMetricsConfig) -> None:
        """Add every counted LLM call of the batch to the metrics."""
        limits = config.limits()
        for span in spans:
            if span.llm is not None and span.llm.is_counted:
                self._record_call(span, span.llm, self._labels(span, span.llm, limits))

    def _labels(self, span: Span, llm: LLMCall, limits: Mapping[str, int]) -> tuple[str, ...]:
        values = {
            "project": span.project_id,
            "provider": llm.provider,
            "model": llm.request_model or llm.response_model,
            "operation": llm.operation,
        }
        labels = []
        for name in LABELS:
            label = self._caps[name].label(values[name], limits[name])
            if label == OTHER:
                self.label_overflows.labels(name).inc()
            labels.append(label)
        return tuple(labels)

    def _record_call(self, span: Span, llm: LLMCall, labels: tuple[str, ...]) -> None:
        self.requests.labels(*labels).inc()
        usage = llm.usage
        if usage.source != "absent":
            for token_type, field_name in _TOKEN_FIELDS:
                count = getattr(usage, field_name)
                if count is not None:
                    self.tokens.labels(*labels, token_type, usage.source).inc(count)
        if llm.cost.total_usd is not None:
            self.cost.labels(*labels).inc(float(llm.cost.total_usd))
        else:
            self.unpriced.labels(*labels, _unpriced_reason(llm)).inc()
        if span.start_time_unix_nano > 0 and span.end_time_unix_nano > 0:
            self.duration.labels(*labels).observe(span.duration_nano / 1e9)
        if llm.time_to_first_token_seconds is not None:
            self.time_to_first_token.labels(*labels).observe(llm.time_to_first_token_seconds)
        if llm.is_error or span.status_code == _STATUS_ERROR:
            self.errors.labels(*labels).inc()


def _unpriced_reason(llm: LLMCall) -> str:
    """Why `price` left no cost, from the fields it sets (see its module docstring)."""
    if llm.cost.price_version is None:
        usage = llm.usage
        has_counts = usage.input_tokens is not None or usage.output_tokens is not None
        return "not_priced" if usage.source != "absent" and has_counts else "no_usage"
    if llm.cost.price_model is None:
        return "no_price"
    return "invalid_usage"
