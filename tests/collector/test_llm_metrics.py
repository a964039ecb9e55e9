"""llm_metrics: exact llm_* values for the real corpus through the default pipeline; label caps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from services.collector.llm_metrics import STEP_TYPE, LLMMetrics
from services.collector.metrics import CollectorMetrics
from services.collector.pipeline import Pipeline, build_pipeline
from services.collector.processors.registry import DEFAULT_STEPS, REGISTRY
from shared.span import Cost, LLMCall, Span, Usage
from tests.collector.corpus import LIBRARIES, expected_calls, load_spans, trace_files

CHAT = {"provider": "openai", "model": "gpt-4o-mini", "operation": "chat"}
CLAUDE = {"provider": "anthropic", "model": "claude-sonnet-4-5", "operation": "chat"}
EMBED = {"provider": "openai", "model": "text-embedding-3-small", "operation": "embeddings"}


def _pipeline(metrics: CollectorMetrics, steps: Sequence[Mapping[str, Any]]) -> Pipeline:
    stages = {STEP_TYPE: LLMMetrics(metrics.registry).build_step}
    return Pipeline(build_pipeline(steps, REGISTRY, stages), metrics)


def _total(registry: CollectorRegistry, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    return sum(
        sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


@pytest.fixture(scope="module")
def corpus_run() -> tuple[CollectorRegistry, list[Span]]:
    """Every corpus export through the default steps, one batch per export, project = library."""
    metrics = CollectorMetrics()
    pipeline = _pipeline(metrics, DEFAULT_STEPS)
    out: list[Span] = []
    for path in trace_files():
        out.extend(pipeline.run(load_spans(path, path.parent.name)))
    return metrics.registry, out


def test_openinference_values_by_hand(corpus_run: tuple[CollectorRegistry, list[Span]]) -> None:
    registry, _ = corpus_run

    def value(name: str, labels: Mapping[str, str], **extra: str) -> float | None:
        return registry.get_sample_value(name, {"project": "openinference", **labels, **extra})

    # chat 431/97, stream 377/61, tool call 289/33 + 341/29; cached and reasoning as reported.
    assert value("llm_requests_total", CHAT) == 5  # the four above and the rate-limited call
    assert value("llm_errors_total", CHAT) == 1
    for token_type, count in (("input", 1438), ("output", 220), ("cache_read", 624),
                              ("reasoning", 73)):  # fmt: skip
        assert value("llm_tokens_total", CHAT, type=token_type, source="reported") == count
    assert value("llm_tokens_total", CHAT, type="cache_write", source="reported") is None
    assert value("llm_tokens_total", CHAT, type="input", source="estimated") is None
    assert value("llm_unpriced_requests_total", CHAT, reason="no_usage") == 1
    assert value("llm_requests_total", CLAUDE) == 1
    for token_type, count in (("input", 473 + 1536 + 256), ("output", 83), ("cache_read", 1536),
                              ("cache_write", 256)):  # fmt: skip
        assert value("llm_tokens_total", CLAUDE, type=token_type, source="reported") == count
    assert value("llm_tokens_total", EMBED, type="input", source="reported") == 9
    assert value("llm_time_to_first_token_seconds_count", CHAT) == 1
    assert value("llm_duration_seconds_count", CHAT) == 5
    assert value("llm_errors_total", CLAUDE) is None


@pytest.mark.parametrize("library", LIBRARIES)
def test_totals_match_ground_truth_per_project(
    library: str, corpus_run: tuple[CollectorRegistry, list[Span]]
) -> None:
    registry, _ = corpus_run
    truth = expected_calls(library)
    assert _total(registry, "llm_requests_total", project=library) == len(truth)
    assert _total(registry, "llm_errors_total", project=library) == sum(
        1 for call in truth if call["is_error"]
    )
    for token_type in ("input", "output"):
        expected = sum(call[f"{token_type}_tokens"] or 0 for call in truth)
        assert _total(registry, "llm_tokens_total", project=library, type=token_type) == expected
    assert _total(registry, "llm_tokens_total", project=library, source="estimated") == 0


@pytest.mark.parametrize("library", LIBRARIES)
def test_cost_duration_and_ttft_match_the_spans(
    library: str, corpus_run: tuple[CollectorRegistry, list[Span]]
) -> None:
    registry, spans = corpus_run
    calls = [
        (span, span.llm)
        for span in spans
        if span.project_id == library and span.llm is not None and span.llm.is_counted
    ]
    costs = [llm.cost.total_usd for _, llm in calls if llm.cost.total_usd is not None]
    assert costs and _total(registry, "llm_cost_usd_total", project=library) == pytest.approx(
        float(sum(costs, Decimal(0))), rel=1e-12
    )
    durations = [span.duration_nano / 1e9 for span, _ in calls]
    assert _total(registry, "llm_duration_seconds_count", project=library) == len(calls)
    assert _total(registry, "llm_duration_seconds_sum", project=library) == pytest.approx(
        sum(durations), rel=1e-12
    )
    ttfts = [llm.time_to_first_token_seconds for _, llm in calls]
    observed = [t for t in ttfts if t is not None]
    assert _total(registry, "llm_time_to_first_token_seconds_count", project=library) == len(
        observed
    )
    assert _total(
        registry, "llm_time_to_first_token_seconds_sum", project=library
    ) == pytest.approx(sum(observed))
    unpriced = len(calls) - len(costs)
    assert _total(registry, "llm_unpriced_requests_total", project=library) == unpriced


def _span(project: str, llm: LLMCall | None, span_id: int = 1) -> Span:
    return Span(
        project_id=project,
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id=f"{span_id:016x}",
        parent_span_id=None,
        name="chat",
        kind=3,
        start_time_unix_nano=1_000_000_000,
        end_time_unix_nano=3_500_000_000,
        llm=llm,
    )


def _call(model: str | None, **fields: Any) -> LLMCall:
    values: dict[str, Any] = {"provider": "openai", "operation": "chat", "request_model": model}
    values.update(fields)
    return LLMCall(convention="otel_genai", span_type="llm", **values)


def test_label_values_past_the_cap_are_other_and_stay_admitted_across_rebuilds() -> None:
    registry = CollectorRegistry()
    llm_metrics = LLMMetrics(registry)
    step = llm_metrics.build_step({"max_models": 2, "max_projects": 1})
    spans = [_span("p1", _call(m), i) for i, m in enumerate(["a", "b", "c", "d", "a"])]
    spans += [_span("p2", _call("a")), _span("p1", _call(None))]
    assert step(spans) == spans

    def requests(project: str, model: str) -> float | None:
        labels = {"project": project, "model": model, "provider": "openai", "operation": "chat"}
        return registry.get_sample_value("llm_requests_total", labels)

    assert (requests("p1", "a"), requests("p1", "b"), requests("p1", "other")) == (2, 1, 2)
    assert requests("other", "a") == 1
    assert requests("p1", "unknown") == 1  # missing values are not capped values
    overflows = "collector_llm_label_overflows_total"
    assert registry.get_sample_value(overflows, {"label": "model"}) == 2
    assert registry.get_sample_value(overflows, {"label": "project"}) == 1
    # A rebuilt step (a pipeline reload) keeps what was admitted, even under a lower cap.
    llm_metrics.build_step({"max_models": 1, "max_projects": 1})([_span("p1", _call("b"))])
    assert requests("p1", "b") == 2


def test_only_counted_calls_and_estimated_tokens_apart() -> None:
    registry = CollectorRegistry()
    step = LLMMetrics(registry).build_step({})
    estimated = Usage(input_tokens=120, output_tokens=30, source="estimated")
    reported = Usage(input_tokens=10, output_tokens=0, source="reported")
    cost = Cost(total_usd=Decimal("0.25"), price_source="genai-prices")
    step([
        _span("p", _call("m", usage=estimated), 1),
        _span("p", _call("m", usage=reported, cost=cost), 2),
        _span("p", _call("m", usage=reported, is_counted=False), 3),
        _span("p", None, 4),
    ])  # fmt: skip
    labels = {"project": "p", "provider": "openai", "model": "m", "operation": "chat"}

    def tokens(token_type: str, source: str) -> float | None:
        return registry.get_sample_value(
            "llm_tokens_total", {**labels, "type": token_type, "source": source}
        )

    assert registry.get_sample_value("llm_requests_total", labels) == 2
    assert (tokens("input", "estimated"), tokens("output", "estimated")) == (120, 30)
    assert (tokens("input", "reported"), tokens("output", "reported")) == (10, 0)
    assert registry.get_sample_value("llm_cost_usd_total", labels) == 0.25
    unpriced = {**labels, "reason": "not_priced"}
    assert registry.get_sample_value("llm_unpriced_requests_total", unpriced) == 1
    assert registry.get_sample_value("llm_duration_seconds_sum", labels) == 5.0
    assert registry.get_sample_value("llm_duration_seconds_bucket", {**labels, "le": "2.5"}) == 2


def test_config_errors() -> None:
    with pytest.raises(ValueError) as caught:
        LLMMetrics(CollectorRegistry()).build_step({"max_models": 0, "max_users": 5})
    assert "max_models: expected an integer >= 1" in str(caught.value)
    assert "max_users: unknown key" in str(caught.value)
