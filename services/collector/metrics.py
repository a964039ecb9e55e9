"""Prometheus metrics of the collector (`collector_*`), on a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.process_collector import ProcessCollector


class CollectorMetrics:
    """Receive, pipeline and hand-off metrics; labels are bounded enums, never ids."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        r = self.registry
        self.spans_received = Counter(
            "collector_spans_received_total",
            "Records received (spans, data points, log records by signal), before validation.",
            ["signal", "transport"], registry=r,
        )  # fmt: skip
        self.spans_processed = Counter(
            "collector_spans_processed_total", "Records accepted and handed to storage.",
            ["signal", "transport"], registry=r,
        )  # fmt: skip
        self.spans_dropped = Counter(
            "collector_spans_dropped_total", "Records rejected or refused, by reason.",
            ["signal", "transport", "reason"], registry=r,
        )  # fmt: skip
        self.requests = Counter(
            "collector_requests_total", "Export requests by outcome.",
            ["signal", "transport", "outcome"], registry=r,
        )  # fmt: skip
        self.request_duration = Histogram(
            "collector_request_duration_seconds", "Time to answer an export request.",
            ["signal", "transport"], registry=r,
        )  # fmt: skip
        # Who may send, and how much (ADR 0008): reasons and limits are fixed enums.
        self.auth_failures = Counter(
            "collector_auth_failures_total",
            "Requests refused for their credentials: missing, malformed, conflicting, unknown, "
            "public_key, revoked, scope, or unavailable (key store down, key not cached).",
            ["transport", "reason"], registry=r,
        )  # fmt: skip
        self.key_lookups = Counter(
            "collector_api_key_lookups_total",
            "API key lookups: hit (cache), miss (database), stale (cache, database down).",
            ["result"], registry=r,
        )  # fmt: skip
        self.quota_refusals = Counter(
            "collector_quota_refusals_total", "Requests refused over a project's ingest quota.",
            ["signal", "transport", "limit"], registry=r,
        )  # fmt: skip
        # Observed usage fed to the LLM usage limits (ADR 0010).
        self.limit_usage_spans = Counter(
            "collector_limit_usage_spans_total",
            "Counted LLM calls of projects with usage limits: charged to their buckets, or left "
            "to the lease they name (leased).", ["outcome"], registry=r,
        )  # fmt: skip
        self.limit_usage_errors = Counter(
            "collector_limit_usage_errors_total",
            "Batches whose usage could not be charged (Redis or the limit rules unavailable).",
            registry=r,
        )  # fmt: skip
        self.quota_check_errors = Counter(
            "collector_quota_check_errors_total",
            "Quota checks that failed on Redis; the request was admitted (fail open).",
            registry=r,
        )  # fmt: skip
        self.quota_limit_lookups = Counter(
            "collector_quota_limit_lookups_total",
            "Per-project quota lookups: hit, miss, stale, or default (database down).",
            ["result"], registry=r,
        )  # fmt: skip
        self.inflight_bytes = Gauge(
            "collector_inflight_request_bytes",
            "Bytes of requests received and not yet answered (bounded by"
            " COLLECTOR_MAX_INFLIGHT_BYTES; over it requests are refused 429).",
            registry=r,
        )  # fmt: skip
        self.handoff_entries = Gauge(
            "collector_handoff_stream_length", "Entries waiting in the hand-off stream.",
            registry=r,
        )  # fmt: skip
        self.step_spans_in = Counter(
            "collector_processor_spans_in_total", "Spans entering a pipeline step.", ["step"],
            registry=r,
        )  # fmt: skip
        self.step_spans_out = Counter(
            "collector_processor_spans_out_total", "Spans leaving a pipeline step.", ["step"],
            registry=r,
        )  # fmt: skip
        self.step_errors = Counter(
            "collector_processor_errors_total", "Batches a pipeline step failed on.", ["step"],
            registry=r,
        )  # fmt: skip
        self.step_duration = Histogram(
            "collector_processor_duration_seconds", "Time a step takes per batch.", ["step"],
            registry=r,
        )  # fmt: skip
        self.pipeline_reloads = Counter(
            "collector_pipeline_reloads_total",
            "Pipeline file changes applied (success) or refused, keeping the running pipeline "
            "(failure).", ["outcome"], registry=r,
        )  # fmt: skip
        self.truncated_values = Counter(
            "collector_truncated_values_total", "Values cut by truncate in handed-off spans.",
            registry=r,
        )  # fmt: skip
