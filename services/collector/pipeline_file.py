"""The pipeline file (`COLLECTOR_PIPELINE_FILE`): its YAML steps, rebuilt when the file changes.

The file is `steps: [{type: kind[/name], config: {...}}, ...]`. Loading lists every problem at
once (YAML syntax by line and column, the file's shape, each step by index and name). While the
collector runs, a change of the file's content builds a new pipeline and swaps it into the
receiver in one assignment (a batch in flight finishes on the pipeline it started with); a file
that fails keeps the running pipeline, logs its problems (never the file's content) and counts
`collector_pipeline_reloads_total{outcome="failure"}`.

The watch is on the file's directory (changes to the file's name, or to `..`-prefixed entries),
and the content is compared, so editors that save by renaming and Kubernetes ConfigMaps (a
symlinked `..data` directory swapped) are both seen; the file is also re-read every few seconds
in case a change notification was missed (network filesystems).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from watchfiles import Change, awatch

from services.collector.metrics import CollectorMetrics
from services.collector.pipeline import PipelineConfigError, Pipelines
from services.collector.receive import Receiver

log = logging.getLogger(__name__)

# Builds a pipeline from a list of steps; raises PipelineConfigError listing every problem.
PipelineFactory = Callable[[Sequence[Mapping[str, Any]]], Pipelines]

OUTCOME_SUCCESS = "success"
OUTCOME_FAILURE = "failure"
RECHECK_MILLISECONDS = 5000
RETRY_SECONDS = 5.0
_FILE_KEYS = ("steps",)


def parse_pipeline(content: bytes, factory: PipelineFactory) -> Pipelines:
    """The pipeline a file's content describes; PipelineConfigError lists every problem."""
    try:
        document = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise PipelineConfigError([_yaml_problem(exc)]) from exc
    if not isinstance(document, Mapping):
        shown = "an empty file" if document is None else type(document).__name__
        raise PipelineConfigError([f"expected a mapping with a steps list, got {shown}"])
    problems = [f"{key}: unknown key" for key in document if key not in _FILE_KEYS]
    steps = document.get("steps")
    if not isinstance(steps, list):
        problems.append(f"steps: expected a list of steps, got {type(steps).__name__}")
        raise PipelineConfigError(problems)
    try:
        pipeline = factory(steps)
    except PipelineConfigError as exc:
        problems.extend(exc.problems)
    if problems:
        raise PipelineConfigError(problems)
    return pipeline


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Where and why the YAML is malformed, without quoting the file (it may hold secrets)."""
    mark = getattr(exc, "problem_mark", None)
    reason = getattr(exc, "problem", None) or "not valid YAML"
    if mark is None:
        return f"invalid YAML: {reason}"
    return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {reason}"


class PipelineFile:
    """A pipeline file and the content last built (or refused); None while it is unreadable."""

    def __init__(self, path: Path, factory: PipelineFactory, metrics: CollectorMetrics) -> None:
        self.path = path
        self._factory = factory
        self._metrics = metrics
        self._seen: bytes | None = None

    def load(self) -> Pipelines:
        """Read and build at startup; PipelineConfigError lists every problem."""
        try:
            content = self.path.read_bytes()
        except OSError as exc:
            raise PipelineConfigError([f"cannot read the file: {exc.strerror or exc}"]) from exc
        self._seen = content
        return parse_pipeline(content, self._factory)

    async def reload(self, receiver: Receiver) -> bool:
        """Swap in a pipeline built from the file if its content changed; True when swapped."""
        try:
            content = await asyncio.to_thread(self.path.read_bytes)
        except OSError as exc:
            if self._seen is None:
                return False  # unreadable since it was last reported
            self._seen = None
            return self._refuse([f"cannot read the file: {exc.strerror or exc}"])
        if content == self._seen:
            return False
        # Recorded first: content that fails, even by a bug, is reported once, not every recheck.
        self._seen = content
        try:
            pipelines = parse_pipeline(content, self._factory)
        except PipelineConfigError as exc:
            return self._refuse(list(exc.problems))
        receiver.pipeline, receiver.log_pipeline = pipelines.spans, pipelines.logs
        self._metrics.pipeline_reloads.labels(OUTCOME_SUCCESS).inc()
        log.info(
            "pipeline reloaded",
            extra={"path": str(self.path), "steps": [step.name for step in pipelines.spans.steps]},
        )
        return True

    async def watch(self, receiver: Receiver) -> None:
        """Reload on every change of the file until cancelled."""
        while True:
            try:
                await self.reload(receiver)  # a change made before the watch began
                # An empty change set every RECHECK_MILLISECONDS re-reads the file anyway.
                async for _changes in awatch(
                    self.path.parent, watch_filter=self._is_relevant, recursive=False,
                    rust_timeout=RECHECK_MILLISECONDS, yield_on_timeout=True,
                ):  # fmt: skip
                    await self.reload(receiver)
            except Exception:  # supervision point: the watch must outlive a vanished directory
                log.exception("pipeline file watch failed", extra={"path": str(self.path)})
                self._metrics.pipeline_reloads.labels(OUTCOME_FAILURE).inc()
                await asyncio.sleep(RETRY_SECONDS)

    def _is_relevant(self, _change: Change, changed: str) -> bool:
        """A change of the file itself, or of a `..data`-style entry a ConfigMap swaps."""
        name = Path(changed).name
        return name == self.path.name or name.startswith("..")

    def _refuse(self, problems: list[str]) -> bool:
        """Keep the running pipeline; log every problem and count the failure."""
        self._metrics.pipeline_reloads.labels(OUTCOME_FAILURE).inc()
        log.warning(
            "pipeline file refused; the running pipeline is kept",
            extra={"path": str(self.path), "problems": problems},
        )
        return False
