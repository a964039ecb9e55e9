"""The processor pipeline: built once from an ordered config list, run step by step with counts."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from services.collector.metrics import CollectorMetrics
from services.collector.processors.base import Processor
from shared.errors import ProcessingError
from shared.log_record import LogRecord
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


# (earlier, later): a step of the first type must not come after one of the second. Totals are
# recorded before sampling drops spans, so metrics count every call.
ORDER_RULES: tuple[tuple[str, str], ...] = (("llm_metrics", "sample"),)
_STEP_KEYS = ("type", "config")


class PipelineConfigError(ValueError):
    """A pipeline config that cannot be built; `problems` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def build_pipeline(
    steps_config: Sequence[Mapping[str, Any]],
    registry: Mapping[str, Builder],
    stages: Mapping[str, Builder] | None = None,
) -> list[Step[Span]]:
    """Build the steps in order; raise PipelineConfigError listing every problem in the config."""
    builders = {**registry, **(stages or {})}
    problems: list[str] = []
    steps: list[Step[Span]] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(steps_config):
        problem = _shape_problem(index, entry, builders)
        if problem is None and entry["type"] in seen:
            problem = f"step {index}: {entry['type']!r} appears twice (name it type/name)"
        if problem is not None:
            problems.append(problem)
            continue
        name = entry["type"]
        seen[name] = index
        try:
            steps.append(Step(name, builders[_kind(name)](entry.get("config") or {})))
        except (ValueError, TypeError) as exc:
            problems.append(f"step {index} ({name}): {exc}")
    problems.extend(_order_problems(seen, stages or {}))
    if problems:
        raise PipelineConfigError(problems)
    return steps


def _kind(name: str) -> str:
    return name.split("/", 1)[0]


def _shape_problem(index: int, entry: Any, builders: Mapping[str, Builder]) -> str | None:
    """Why an entry is not `{type: kind[/name], config: {...}}` with a known kind, or None."""
    if not isinstance(entry, Mapping):
        return f"step {index}: expected a mapping with type and config, got {type(entry).__name__}"
    name = entry.get("type")
    if not isinstance(name, str) or not name:
        return f"step {index}: type must be a non-empty string"
    unknown = sorted(str(key) for key in entry if key not in _STEP_KEYS)
    if unknown:
        return f"step {index} ({name}): unknown key(s) {', '.join(unknown)}"
    if _kind(name) not in builders:
        return f"step {index}: unknown processor type {_kind(name)!r}"
    if not isinstance(entry.get("config") or {}, Mapping):
        return f"step {index} ({name}): config must be a mapping"
    return None


def _order_problems(seen: Mapping[str, int], stages: Mapping[str, Builder]) -> list[str]:
    """Every ORDER_RULES violation, and a stage appearing more than once (it would count twice)."""
    first: dict[str, tuple[int, str]] = {}
    problems: list[str] = []
    for name, index in seen.items():
        kind = _kind(name)
        if kind in first and kind in stages:
            problems.append(f"step {index} ({name}): {kind} may appear only once")
        first.setdefault(kind, (index, name))
    for earlier, later in ORDER_RULES:
        if earlier in first and later in first and first[later][0] < first[earlier][0]:
            index, name = first[later]
            problems.append(
                f"step {index} ({name}): must come after {earlier} (step {first[earlier][0]})"
            )
    return problems


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


@dataclass(frozen=True, slots=True)
class Pipelines:
    """The span pipeline and the log-record pipeline built from one list of steps."""

    spans: Pipeline[Span]
    logs: Pipeline[LogRecord]
