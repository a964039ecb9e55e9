"""Dashboard 6, Pipeline health (Prometheus): records received, accepted and refused, hand-off
backlog, freshness, batch sizes, dead letters, cache hit ratios, API latency."""

from __future__ import annotations

from deploy.grafana.panels import Json, Query, dashboard, prom_panel, prom_variable

RATE = "$__rate_interval"
SIGNAL = 'signal=~"$signal"'


def _quantiles(metric: str, by: str = "") -> list[Query]:
    group = f"le{', ' + by if by else ''}"
    legend = f"{{{{{by}}}}} " if by else ""
    return [
        Query(
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket[{RATE}])))",
            f"{legend}p{round(q * 100)}",
        )
        for q in (0.5, 0.95, 0.99)
    ]


def build() -> Json:
    """The pipeline health dashboard."""
    panels = [
        prom_panel(
            "timeseries",
            "Records received, accepted and rejected per second",
            [
                Query(
                    f"sum by (signal) (rate(collector_spans_received_total{{{SIGNAL}}}[{RATE}]))",
                    "received {{signal}}",
                ),
                Query(
                    f"sum by (signal) (rate(collector_spans_processed_total{{{SIGNAL}}}[{RATE}]))",
                    "accepted {{signal}}",
                ),
                Query(
                    f"sum by (signal, reason) "
                    f"(rate(collector_spans_dropped_total{{{SIGNAL}}}[{RATE}]))",
                    "rejected {{signal}} ({{reason}})",
                ),
            ],
            unit="rps",
        ),
        prom_panel(
            "timeseries",
            "Export requests by outcome",
            [
                Query(
                    f"sum by (outcome) (rate(collector_requests_total{{{SIGNAL}}}[{RATE}]))",
                    "{{outcome}}",
                )
            ],
            unit="reqps",
            description="ok, or the error class: UnavailableError and ThrottledError are "
            "refusals the client retries.",
        ),
        prom_panel(
            "timeseries",
            "Hand-off backlog",
            [
                Query("max(collector_handoff_stream_length)", "stream length (collector)"),
                Query("max(storage_stream_length)", "stream length (storage)"),
                Query("sum(storage_stream_pending)", "delivered, not acknowledged"),
            ],
            unit="short",
        ),
        prom_panel(
            "timeseries",
            "Freshness: receipt to queryable",
            _quantiles("storage_ingest_to_queryable_seconds"),
            unit="s",
            description="Objective: p99 under 2 s (alert FreshnessObjectiveMissed).",
        ),
        prom_panel(
            "timeseries",
            "Storage batch size",
            [q for q in _quantiles("storage_batch_size_spans") if "p99" not in q.legend]
            + [Query(f"sum(rate(storage_flushes_total[{RATE}]))", "batches/s")],
            unit="short",
        ),
        prom_panel(
            "timeseries",
            "Rows written per second",
            [
                Query(f"sum by (table) (rate(storage_rows_written_total[{RATE}]))", "{{table}}"),
                Query(
                    f"sum(rate(storage_redelivered_spans_total[{RATE}]))", "redelivered (skipped)"
                ),
            ],
            unit="rps",
        ),
        prom_panel(
            "timeseries",
            "Dead letters and write retries",
            [
                Query(f"sum(increase(storage_dead_letters_total[{RATE}]))", "dead letters"),
                Query(
                    f"sum by (reason) (increase(storage_write_retries_total[{RATE}]))",
                    "retries ({{reason}})",
                ),
            ],
            unit="short",
        ),
        prom_panel(
            "timeseries",
            "LLM prompt cache hit ratio (input tokens read from cache)",
            [
                Query(
                    f'sum by (provider) (rate(llm_tokens_total{{type="cache_read"}}[{RATE}]))'
                    f' / sum by (provider) (rate(llm_tokens_total{{type="input"}}[{RATE}]))',
                    "{{provider}}",
                )
            ],
            unit="percentunit",
        ),
        prom_panel(
            "timeseries", "API latency", _quantiles("api_request_duration_seconds"), unit="s"
        ),
        prom_panel(
            "timeseries",
            "API requests by status",
            [Query(f"sum by (status) (rate(api_requests_total[{RATE}]))", "{{status}}")],
            unit="reqps",
        ),
    ]
    variables = [
        prom_variable("signal", "Signal", "label_values(collector_spans_received_total, signal)")
    ]
    return dashboard(
        "llmobs-pipeline",
        "LLM Observatory pipeline health",
        "The collector, the hand-off stream and storage, and the API, from Prometheus.",
        panels,
        variables,
        time_from="now-6h",
    )
