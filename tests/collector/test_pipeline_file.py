"""The pipeline file: every problem listed at once; hot reload with a real file and watcher."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis
import yaml

from services.collector.export import StreamExporter
from services.collector.llm_metrics import STEP_TYPE, LLMMetrics
from services.collector.metrics import CollectorMetrics
from services.collector.pipeline import Pipeline, PipelineConfigError, Pipelines, build_pipeline
from services.collector.pipeline_file import PipelineFile, parse_pipeline
from services.collector.processors.registry import (
    DEFAULT_STEPS,
    REGISTRY,
    ProcessorContext,
    build_log_steps,
)
from services.collector.processors.truncate import TRUNCATED_ATTRIBUTE
from services.collector.receive import Receiver
from shared.handoff import decode_entry
from tests.collector.corpus import CORPUS, load_request

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "collector" / "pipeline.yaml"
STREAM = "test:pipeline-file"


def _factory(metrics: CollectorMetrics) -> Callable[[Sequence[Mapping[str, Any]]], Pipelines]:
    stages = {STEP_TYPE: LLMMetrics(metrics.registry).build_step}
    return lambda steps: Pipelines(
        Pipeline(build_pipeline(steps, REGISTRY, stages), metrics),
        Pipeline(build_log_steps(steps, ProcessorContext()), metrics),
    )


def _problems(content: str) -> tuple[str, ...]:
    with pytest.raises(PipelineConfigError) as caught:
        parse_pipeline(content.encode(), _factory(CollectorMetrics()))
    return caught.value.problems


def test_every_problem_is_listed_with_its_step() -> None:
    problems = _problems(
        """
steps:
  - type: normalize
    config: {capture_content: "yes"}
  - type: bogus
  - type: price
    config: {max_cached_lookups: 0, colour: red}
  - truncate
  - type: sample
    config: {rate: 2}
  - type: llm_metrics
  - type: normalize
  - type: truncate
    settings: {max_span_chars: 100}
  - type: llm_metrics/again
  - type: estimate_tokens
    config: [1, 2]
  - type: ""
version: 2
"""
    )
    assert problems == (
        "version: unknown key",
        "step 0 (normalize): normalize.capture_content: expected true or false, got 'yes'",
        "step 1: unknown processor type 'bogus'",
        "step 2 (price): colour: unknown key; max_cached_lookups: expected an integer >= 1, got 0",
        "step 3: expected a mapping with type and config, got str",
        "step 4 (sample): rate: expected a decimal above 0 and at most 1, got 2",
        "step 6: 'normalize' appears twice (name it type/name)",
        "step 7 (truncate): unknown key(s) settings",
        "step 9 (estimate_tokens): config must be a mapping",
        "step 10: type must be a non-empty string",
        "step 8 (llm_metrics/again): llm_metrics may appear only once",
        "step 4 (sample): must come after llm_metrics (step 5)",
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("steps: [\n  {type: normalize,\n", "invalid YAML at line 3, column 1"),
        ("", "expected a mapping with a steps list, got an empty file"),
        ("- type: normalize\n", "expected a mapping with a steps list, got list"),
        ("steps: {type: normalize}\n", "steps: expected a list of steps, got dict"),
        ("stepz: []\n", "stepz: unknown key"),
    ],
)
def test_file_shape_problems(content: str, problem: str) -> None:
    problems = _problems(content)
    assert any(p.startswith(problem) for p in problems), problems


def test_yaml_problems_do_not_quote_the_file() -> None:
    [problem] = _problems("steps:\n  - type: redact\n    config: {secret: hunter2\n")
    assert "hunter2" not in problem and problem.startswith("invalid YAML at line")


def test_example_file_lists_the_default_steps_and_its_optional_steps_build() -> None:
    metrics = CollectorMetrics()
    pipeline = PipelineFile(EXAMPLE, _factory(metrics), metrics).load().spans
    assert [step.name for step in pipeline.steps] == [step["type"] for step in DEFAULT_STEPS]
    # Uncomment the documented truncate and sample steps: they must build as shown.
    lines = EXAMPLE.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  # truncate:"))
    optional = [
        line.replace("  # ", "  ", 1)
        for line in lines[start:]
        if line.startswith("  # - type:") or line.startswith("  #   ")
    ]
    document = "\n".join(lines[:start] + optional)
    steps = yaml.safe_load(document)["steps"]
    assert [step["type"] for step in steps][-2:] == ["truncate", "sample"]
    extended = parse_pipeline(document.encode(), _factory(CollectorMetrics()))
    assert [step.name for step in extended.spans.steps][-2:] == ["truncate", "sample"]


def test_an_invalid_file_at_startup_exits_non_zero_naming_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("steps:\n  - type: bogus\n  - type: sample\n  - type: llm_metrics\n")
    env = {**os.environ, "COLLECTOR_PIPELINE_FILE": str(path), "REDIS_URL": "redis://127.0.0.1:1"}
    result = subprocess.run(
        [sys.executable, "-m", "services.collector"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"invalid COLLECTOR_PIPELINE_FILE {path}" in result.stderr
    assert "step 0: unknown processor type 'bogus'" in result.stderr
    assert "step 1 (sample): must come after llm_metrics (step 2)" in result.stderr
    missing = {**env, "COLLECTOR_PIPELINE_FILE": str(tmp_path / "missing.yaml")}
    result = subprocess.run(
        [sys.executable, "-m", "services.collector"],
        cwd=ROOT, env=missing, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "cannot read the file" in result.stderr


async def _eventually(condition: Callable[[], bool], timeout_seconds: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        await asyncio.sleep(0.05)


async def _export_and_read(receiver: Receiver, client: redis.Redis) -> dict[str, Any]:
    """Export a corpus chat; the handed-off record of its LLM call span."""
    request = load_request(CORPUS / "otel-genai-v2-latest" / "chat.otlp.pb")
    await receiver.export_traces(request, "proj-a", "http")
    [(_, fields)] = await client.xrevrange(STREAM, count=1)
    records = decode_entry(fields).records
    [record] = [r for r in records if "gen_ai.input.messages" in r["attributes"]]
    return record


async def test_reload_swaps_on_change_and_keeps_the_pipeline_on_an_invalid_file(
    tmp_path: Path, redis_url: str
) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("steps:\n  - type: normalize\n")
    metrics = CollectorMetrics()
    source = PipelineFile(path, _factory(metrics), metrics)
    client = redis.Redis.from_url(redis_url)
    receiver = Receiver(source.load().spans, StreamExporter(client, STREAM, 100), metrics)
    watch = asyncio.create_task(source.watch(receiver))

    def reloads(outcome: str) -> float:
        value = metrics.registry.get_sample_value(
            "collector_pipeline_reloads_total", {"outcome": outcome}
        )
        return value or 0.0

    try:
        await asyncio.sleep(0.5)  # the watcher is up
        record = await _export_and_read(receiver, client)
        assert TRUNCATED_ATTRIBUTE not in record["attributes"]

        path.write_text(
            "steps:\n  - type: normalize\n  - type: truncate\n"
            "    config: {max_attribute_chars: 64}\n"
        )
        await _eventually(lambda: len(receiver.pipeline.steps) == 2)
        assert reloads("success") == 1
        record = await _export_and_read(receiver, client)
        assert "attributes.gen_ai.input.messages" in record["attributes"][TRUNCATED_ATTRIBUTE]
        assert metrics.registry.get_sample_value("collector_truncated_values_total") > 0

        running = receiver.pipeline
        path.write_text("steps:\n  - type: truncate\n    config: {max_attribute_chars: 1}\n")
        await _eventually(lambda: reloads("failure") == 1)
        assert receiver.pipeline is running

        # Editors save by writing a new file and renaming it over the old one.
        replacement = tmp_path / ".pipeline.yaml.tmp"
        replacement.write_text("steps:\n  - type: normalize\n  - type: sample\n")
        os.replace(replacement, path)
        await _eventually(lambda: [s.name for s in receiver.pipeline.steps][-1] == "sample")
        assert (reloads("success"), reloads("failure")) == (2, 1)
    finally:
        watch.cancel()
        await asyncio.gather(watch, return_exceptions=True)
        await client.aclose()


async def test_an_unreadable_file_keeps_the_pipeline_and_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("steps: [{type: normalize}]\n")
    metrics = CollectorMetrics()
    source = PipelineFile(path, _factory(metrics), metrics)
    receiver = Receiver(source.load().spans, StreamExporter(redis.Redis(), STREAM, 1), metrics)
    running = receiver.pipeline
    path.unlink()
    assert await source.reload(receiver) is False
    assert await source.reload(receiver) is False
    failures = {"outcome": "failure"}
    assert metrics.registry.get_sample_value("collector_pipeline_reloads_total", failures) == 1
    path.write_text("steps: [{type: normalize}, {type: price}]\n")
    assert await source.reload(receiver) is True
    assert receiver.pipeline is not running


async def test_a_configmap_style_symlink_swap_is_seen(tmp_path: Path) -> None:
    """Kubernetes mounts `file -> ..data/file` and swaps the `..data` symlink to a new dir."""
    for version, steps in (("..v1", "[{type: normalize}]"), ("..v2", "[{type: price}]")):
        (tmp_path / version).mkdir()
        (tmp_path / version / "pipeline.yaml").write_text(f"steps: {steps}\n")
    (tmp_path / "..data").symlink_to("..v1")
    path = tmp_path / "pipeline.yaml"
    path.symlink_to("..data/pipeline.yaml")
    metrics = CollectorMetrics()
    source = PipelineFile(path, _factory(metrics), metrics)
    receiver = Receiver(source.load().spans, StreamExporter(redis.Redis(), STREAM, 1), metrics)
    watch = asyncio.create_task(source.watch(receiver))
    try:
        await asyncio.sleep(0.5)
        (tmp_path / "..data_tmp").symlink_to("..v2")
        os.replace(tmp_path / "..data_tmp", tmp_path / "..data")
        await _eventually(lambda: [s.name for s in receiver.pipeline.steps] == ["price"])
    finally:
        watch.cancel()
        await asyncio.gather(watch, return_exceptions=True)
