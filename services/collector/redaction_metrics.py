"""`collector_redactions_total{rule}`: the redact processor's counts, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from services.collector.processors.redact import RedactStats


class RedactionCollector(Collector):
    """Exposes a RedactStats as counters (rules are a fixed set: bounded labels)."""

    def __init__(self, stats: RedactStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[CounterMetricFamily]:
        """Yield the detections per rule and the dropped fields."""
        counts = self._stats.snapshot()
        detections = CounterMetricFamily(
            "collector_redactions", "Values redacted, by rule.", labels=["rule"]
        )
        for rule, count in sorted(counts.detections.items()):
            detections.add_metric([rule], count)
        yield detections
        dropped = CounterMetricFamily(
            "collector_redaction_dropped_fields", "Fields dropped by redact rules in drop mode."
        )
        dropped.add_metric([], counts.dropped_fields)
        yield dropped
