"""The processor pipeline: built once from an ordered config list, run step by step with counts."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from services.collector.metrics import CollectorMetrics
from services.collector.processors.base import Processor
from shared.errors import ProcessingError
from shared.span import Span

# A registry entry builds a processor from its (already parsed) mapping of settings.
Builder = Callable[[Mapping[str, Any]], Processor]
# The record type a pipeline carries: spans, or log records (whose processors, e.g. redaction
# of GenAI content events, plug into the receiver's log pipeline).
RecordT = TypeVar("RecordT")


@dataclass(frozen=True, slots=True)
class Step(Generic[RecordT]):
    """One named processor in the pipeline (`type` or `type/name`)."""

    name: str
    processor: Callable[[Sequence[RecordT]], list[RecordT]]


def build_pipeline(
    steps_config: Sequence[Mapping[str, Any]], registry: Mapping[str, Builder]
) -> list[Step[Span]]:
    """Build the steps in order; raise ValueError listing every problem in the config."""
    problems: list[str] = []
    steps: list[Step[Span]] = []
    seen: set[str] = set()
    for index, entry in enumerate(steps_config):
        name = str(entry.get("type", ""))
        kind = name.split("/", 1)[0]
        if kind not in registry:
            problems.append(f"step {index}: unknown processor type {kind!r}")
            continue
        if name in seen:
            problems.append(f"step {index}: {name!r} appears twice (name it type/name)")
            continue
        seen.add(name)
        settings = entry.get("config") or {}
        if not isinstance(settings, Mapping):
            problems.append(f"step {index} ({name}): config must be a mapping")
            continue
        try:
            steps.append(Step(name, registry[kind](settings)))
        except (ValueError, TypeError) as exc:
            problems.append(f"step {index} ({name}): {exc}")
    if problems:
        raise ValueError("; ".join(problems))
    return steps


class Pipeline(Generic[RecordT]):
    """Runs its steps in order over a batch, counting records in/out, time and errors per step."""

    def __init__(self, steps: Sequence[Step[RecordT]], metrics: CollectorMetrics) -> None:
        self.steps = tuple(steps)
        self._metrics = metrics

    def run(self, records: Sequence[RecordT]) -> list[RecordT]:
        """Return the processed batch; any step failing refuses the whole batch."""
        batch = list(records)
        for step in self.steps:
            started = time.perf_counter()
            self._metrics.step_spans_in.labels(step.name).inc(len(batch))
            try:
                batch = step.processor(batch)
            except Exception as exc:  # supervision point: a processor bug must not leak data
                self._metrics.step_errors.labels(step.name).inc()
                raise ProcessingError(f"processor {step.name} failed on a batch") from exc
            finally:
                self._metrics.step_duration.labels(step.name).observe(time.perf_counter() - started)
            self._metrics.step_spans_out.labels(step.name).inc(len(batch))
        return batch
