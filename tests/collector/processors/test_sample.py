"""sample: rules keep errors, slow and expensive spans; the rest by trace-id hash, weighted."""

from __future__ import annotations

import copy
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from services.collector.processors.normalize import NormalizeConfig
from services.collector.processors.normalize import build as build_normalize
from services.collector.processors.sample import (
    WEIGHT_ATTRIBUTE,
    SampleConfig,
    build,
    trace_hash,
)
from shared.span import Cost, LLMCall, Span
from tests.collector.corpus import load_spans, trace_files

MS = 1_000_000


def _span(
    trace: int,
    span: int = 1,
    duration_ms: int = 100,
    status_code: int = 0,
    llm: LLMCall | None = None,
    attributes: dict[str, Any] | None = None,
) -> Span:
    return Span(
        project_id="proj-a",
        trace_id=f"{trace:032x}",
        span_id=f"{span:016x}",
        parent_span_id=None,
        name="op",
        kind=1,
        start_time_unix_nano=1_000 * MS,
        end_time_unix_nano=(1_000 + duration_ms) * MS,
        status_code=status_code,
        attributes=attributes or {},
        llm=llm,
    )


def _call(**fields: Any) -> LLMCall:
    return LLMCall(convention="otel_genai", span_type="llm", **fields)


def _sample(spans: list[Span], **settings: Any) -> list[Span]:
    return build(SampleConfig.from_mapping(settings))(spans)


def test_default_keeps_everything_unweighted() -> None:
    spans = [_span(t, s) for t in range(50) for s in range(3)]
    assert build(SampleConfig.from_mapping({}))(spans) == spans


def test_rate_keeps_whole_traces_deterministically_with_weights() -> None:
    spans = [_span(t, s) for t in range(4000) for s in range(3)]
    kept = _sample(spans, rate="0.25")
    assert kept == _sample(spans, rate=0.25)
    traces = {span.trace_id for span in kept}
    assert all(sum(1 for s in kept if s.trace_id == t) == 3 for t in list(traces)[:100])
    assert len(kept) == 3 * len(traces)
    assert 0.22 < len(traces) / 4000 < 0.28
    assert {span.attributes[WEIGHT_ATTRIBUTE] for span in kept} == {4.0}
    assert all(trace_hash(span.trace_id) < 2**62 for span in kept)


def test_lower_rates_keep_subsets() -> None:
    spans = [_span(t) for t in range(2000)]
    kept = {s.trace_id for s in _sample(spans, rate="0.5")}
    fewer = {s.trace_id for s in _sample(spans, rate="0.1")}
    assert fewer < kept


@pytest.mark.parametrize(
    ("case", "span"),
    [
        ("status error", _span(1, status_code=2)),
        ("failed call", _span(1, llm=_call(is_error=True))),
        ("slow", _span(1, duration_ms=5000)),
        ("expensive", _span(1, llm=_call(cost=Cost(total_usd=Decimal("1.00"))))),
        ("expensive as reported", _span(1, llm=_call(cost=Cost(reported_usd=Decimal("2"))))),
    ],
)
def test_rules_keep_spans_without_weight(case: str, span: Span) -> None:
    dropped_trace = next(t for t in range(100) if trace_hash(f"{t:032x}") >= 2**60)
    span = replace(span, trace_id=f"{dropped_trace:032x}")
    assert _sample([span], rate="0.0625") == [span], case


def test_rules_can_be_turned_off() -> None:
    dropped_trace = next(t for t in range(100) if trace_hash(f"{t:032x}") >= 2**60)
    spans = [
        _span(dropped_trace, 1, status_code=2),
        _span(dropped_trace, 2, duration_ms=60_000),
        _span(dropped_trace, 3, llm=_call(cost=Cost(total_usd=Decimal(50)))),
        _span(dropped_trace, 4, duration_ms=4999, llm=_call(cost=Cost(total_usd=Decimal("0.99")))),
    ]
    assert _sample(spans, rate="0.0625") == spans[:3]
    assert _sample(spans, rate="0.0625", keep_errors=False, slow_ms=None, expensive_usd=None) == []
    assert _sample(spans, rate="0.0625", slow_ms=4999, expensive_usd="0.5") == spans


def test_an_existing_weight_is_multiplied() -> None:
    kept_trace = next(t for t in range(100) if trace_hash(f"{t:032x}") < 2**62)
    [span] = _sample([_span(kept_trace, attributes={WEIGHT_ATTRIBUTE: 2.0})], rate="0.5")
    assert span.attributes[WEIGHT_ATTRIBUTE] == 4.0


def test_corpus_errors_survive_a_low_rate() -> None:
    normalize = build_normalize(NormalizeConfig())
    for path in trace_files():
        spans = normalize(load_spans(path, "p"))
        kept = _sample(spans, rate="0.000001", slow_ms=None)
        failed = [s for s in spans if s.status_code == 2 or (s.llm is not None and s.llm.is_error)]
        assert kept == failed, path
        assert (path.name.startswith("error_429")) == bool(failed), path


def test_contract_empty_unchanged_input_and_split_independence() -> None:
    sample = build(SampleConfig(rate=Decimal("0.3")))
    assert sample([]) == []
    assert build(SampleConfig())([]) == []
    spans = [_span(t, s, duration_ms=t * 50, status_code=2 * (t % 7 == 0)) for t in range(200)
             for s in range(2)]  # fmt: skip
    spans.append(_span(500, llm=_call(cost=Cost(total_usd=Decimal(3)))))
    before = copy.deepcopy(spans)
    whole = sample(spans)
    assert spans == before
    assert 0 < len(whole) < len(spans)
    assert whole == sample(spans[:137]) + sample(spans[137:])
    assert whole == sample(list(reversed(spans)))[::-1]


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"rate": 0}, "rate: expected a positive decimal"),
        ({"rate": "1.5"}, "rate: expected a decimal above 0 and at most 1"),
        ({"rate": "often"}, "rate"),
        ({"slow_ms": -1}, "slow_ms: expected an integer >= 0"),
        ({"expensive_usd": "-1"}, "expensive_usd: expected a non-negative decimal"),
        ({"keep_errors": "yes"}, "keep_errors: expected true or false"),
        ({"ratio": 0.5}, "ratio: unknown key"),
    ],
)
def test_config_errors(settings: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        SampleConfig.from_mapping(settings)
    assert fragment in str(caught.value)
