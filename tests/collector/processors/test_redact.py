"""The redact processor: the labelled PII corpus, modes, policies, and the processor contract."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from bench.redaction_report import check_case, evaluate, load_corpus
from services.collector.processors import normalize
from services.collector.processors.pii.kinds import Kind
from services.collector.processors.pii.policy import Mode, RedactPolicy
from services.collector.processors.pii.walker import DROPPED, MAX_DEPTH, redact_value
from services.collector.processors.redact import (
    RedactConfig,
    RedactStats,
    build,
)
from shared.otlp.traces import decode_export_request
from shared.span import LLMCall, Span, SpanEvent, SpanLink

ROOT = Path(__file__).resolve().parents[3]
CORPUS = load_corpus()
LLM_CORPUS = ROOT / "test-data" / "llm-corpus"
SECRET = "a-test-secret-of-enough-length"
EMAIL = "jane.doe@example.org"
CARD = "4111 1111 1111 1111"


def make_span(
    attributes: dict[str, Any] | None = None,
    project_id: str = "p1",
    span_id: str = "00f067aa0ba902b7",
    **fields: Any,
) -> Span:
    return Span(
        project_id=project_id,
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        span_id=span_id,
        parent_span_id=None,
        name="chat gpt-4o-mini",
        kind=3,
        start_time_unix_nano=1_700_000_000_000_000_000,
        end_time_unix_nano=1_700_000_001_000_000_000,
        attributes=attributes or {},
        **fields,
    )


def redact_one(span: Span, config: RedactConfig | None = None) -> Span:
    (result,) = build(config or RedactConfig())([span])
    return result


# --- the labelled corpus --------------------------------------------------------------------


def test_corpus_is_large_and_covers_every_rule() -> None:
    positives = [case for case in CORPUS if case["label"] == "positive"]
    negatives = [case for case in CORPUS if case["label"] == "negative"]
    assert len(positives) >= 250
    assert len(negatives) >= 250
    held = {kind for case in positives for kind in case["secrets"]}
    assert held == {kind.value for kind in Kind}
    assert sum(case["format"] == "json" for case in positives) >= 80
    assert sum(case["format"] == "json" for case in negatives) >= 50


@pytest.mark.parametrize("case", CORPUS, ids=[case["id"] for case in CORPUS])
def test_corpus_case(case: dict[str, Any]) -> None:
    output, counts, problems = check_case(case)
    assert problems == [], f"{case['text']!r} -> {output!r}"
    if case["label"] == "positive":
        assert set(case["secrets"]) <= set(counts)
        if case["format"] == "json":
            json.loads(output)


def test_corpus_precision_and_recall_per_rule() -> None:
    report = evaluate(CORPUS)
    assert report.failures == []
    for kind, score in report.scores.items():
        assert score.true_positives >= 8, kind
        assert score.recall == 1.0, kind
        assert score.precision >= 0.95, kind


# --- modes ------------------------------------------------------------------------------------


def test_mask_replaces_each_detection_with_its_rule_label() -> None:
    span = make_span({"input.value": f"mail {EMAIL}, card {CARD}, ip 203.0.113.42"})
    result = redact_one(span)
    assert result.attributes["input.value"] == (
        "mail [REDACTED:EMAIL], card [REDACTED:CREDIT_CARD], ip [REDACTED:IPV4]"
    )


def test_url_credentials_lose_only_the_password() -> None:
    span = make_span({"db.url": "postgres://admin:S3cretPass@db.internal:5432/app"})
    assert redact_one(span).attributes["db.url"] == (
        "postgres://admin:[REDACTED:URL_CREDENTIALS]@db.internal:5432/app"
    )


def test_hash_is_keyed_per_project_and_equal_values_still_join() -> None:
    config = RedactConfig(default_mode=Mode.HASH, hash_secret=SECRET)
    redact = build(config)
    spans = [
        make_span({"user": EMAIL}, project_id="p1"),
        make_span({"user": EMAIL.upper()}, project_id="p1"),
        make_span({"user": EMAIL}, project_id="p2"),
    ]
    first, second, other_project = (span.attributes["user"] for span in redact(spans))
    assert re.fullmatch(r"\[HASH:EMAIL:[0-9a-f]{16}\]", first)
    assert first == second  # e-mail addresses are compared case-insensitively
    assert first != other_project
    assert EMAIL not in first


def test_hash_of_a_card_ignores_its_spacing() -> None:
    config = RedactConfig(modes={Kind.CREDIT_CARD: Mode.HASH}, hash_secret=SECRET)
    spaced, dashed = (
        span.attributes["card"]
        for span in build(config)(
            [make_span({"card": CARD}), make_span({"card": "4111-1111-1111-1111"})]
        )
    )
    assert spaced == dashed
    assert spaced.startswith("[HASH:CREDIT_CARD:")


def test_drop_removes_the_attribute_and_counts_it() -> None:
    stats = RedactStats()
    config = RedactConfig(modes={Kind.PRIVATE_KEY: Mode.DROP})
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----"
    span = make_span(
        {"tool.output": f"found: {key}", "note": f"mail {EMAIL}", "nested": {"deep": [key]}},
        events=(SpanEvent(1, "log", {"body": key, "level": "info"}),),
        llm=LLMCall(convention="otel-genai", span_type="llm", input_messages=[{"content": key}]),
    )
    (result,) = build(config, stats)([span])
    assert result.attributes == {"note": "mail [REDACTED:EMAIL]"}
    assert result.events[0].attributes == {"level": "info"}
    assert result.llm is not None and result.llm.input_messages is None
    counts = stats.snapshot()
    assert counts.dropped_fields == 4
    assert counts.detections == {"private_key": 4, "email": 1}


def test_redact_value_reports_drop_with_a_sentinel() -> None:
    policy = RedactPolicy(modes={Kind.EMAIL: Mode.DROP})
    assert redact_value({"a": [f"to {EMAIL}"]}, policy) == (DROPPED, {"email": 1})
    assert redact_value("no personal data here", policy) == ("no personal data here", {})


# --- allow-lists and per-project policy --------------------------------------------------------


def test_allow_values_and_patterns_are_never_redacted() -> None:
    config = RedactConfig(
        allow_values=frozenset({"support@acme.example"}),
        allow_patterns=(r".*@noreply\.acme\.example", r"192\.0\.2\.\d+"),
    )
    text = f"write to support@acme.example or bot@noreply.acme.example, not {EMAIL}; 192.0.2.7"
    result = redact_one(make_span({"msg": text}), config)
    assert result.attributes["msg"] == (
        "write to support@acme.example or bot@noreply.acme.example, not [REDACTED:EMAIL]; 192.0.2.7"
    )


def test_allow_keys_are_never_touched_exact_or_by_prefix() -> None:
    config = RedactConfig(allow_keys=frozenset({"service.name", "app.ids.*"}))
    attributes = {"service.name": EMAIL, "app.ids.owner": EMAIL, "app.owner": EMAIL}
    span = make_span(attributes, resource_attributes={"service.name": EMAIL, "host.name": EMAIL})
    result = redact_one(span, config)
    assert result.attributes == {**attributes, "app.owner": "[REDACTED:EMAIL]"}
    assert result.resource_attributes == {"service.name": EMAIL, "host.name": "[REDACTED:EMAIL]"}


def test_default_allow_keys_keep_identity_and_model_attributes() -> None:
    attributes = {"service.name": "svc 203.0.113.9", "gen_ai.request.model": "m 203.0.113.9"}
    assert redact_one(make_span(resource_attributes=attributes)).resource_attributes == attributes


def test_per_project_overrides_modes_disabled_rules_and_allow_lists() -> None:
    config = RedactConfig.from_mapping(
        {
            "disabled": ["ipv4"],
            "hash_secret": SECRET,
            "projects": {
                "hashing": {"modes": {"email": "hash", "ipv4": "mask"}},
                "lenient": {"disabled": ["email"], "allow_values": ["4111111111111111"]},
            },
        }
    )
    text = f"{EMAIL} 203.0.113.9 4111111111111111"
    by_project = {
        span.project_id: span.attributes["msg"]
        for span in build(config)(
            [make_span({"msg": text}, project_id=p) for p in ("other", "hashing", "lenient")]
        )
    }
    assert by_project["other"] == "[REDACTED:EMAIL] 203.0.113.9 [REDACTED:CREDIT_CARD]"
    assert re.fullmatch(
        r"\[HASH:EMAIL:[0-9a-f]{16}\] \[REDACTED:IPV4\] \[REDACTED:CREDIT_CARD\]",
        by_project["hashing"],
    )
    assert by_project["lenient"] == f"{EMAIL} 203.0.113.9 4111111111111111"


# --- JSON held in strings, and every place a span holds text ------------------------------------


def test_json_message_attributes_stay_valid_compact_json() -> None:
    messages = [
        {"role": "user", "parts": [{"type": "text", "content": f"I am {EMAIL}"}]},
        {
            "role": "assistant",
            "tool_calls": [{"function": {"arguments": json.dumps({"card": CARD, "n": 2})}}],
        },
    ]
    raw = json.dumps(messages, indent=2)
    result = redact_one(make_span({"gen_ai.input.messages": raw}))
    value = result.attributes["gen_ai.input.messages"]
    assert "\n" not in value
    parsed = json.loads(value)
    assert parsed[0]["parts"][0]["content"] == "I am [REDACTED:EMAIL]"
    assert json.loads(parsed[1]["tool_calls"][0]["function"]["arguments"]) == {
        "card": "[REDACTED:CREDIT_CARD]",
        "n": 2,
    }


def test_json_without_detections_keeps_its_exact_text() -> None:
    raw = '{"model": "gpt-4o-mini",  "messages": [{"role": "user", "content": "hi"}]}'
    span = make_span({"input.value": raw})
    assert redact_one(span) is span


def test_text_that_only_looks_like_json_stays_text() -> None:
    span = make_span({"a": f"[citation needed] {EMAIL}", "b": "{not json} " + EMAIL + " {x}"})
    result = redact_one(span)
    assert result.attributes == {
        "a": "[citation needed] [REDACTED:EMAIL]",
        "b": "{not json} [REDACTED:EMAIL] {x}",
    }


def test_aws_secret_is_found_by_its_json_key() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    raw = json.dumps({"aws_secret_access_key": secret, "region": "eu-west-1"})
    value = redact_one(make_span({"tool.args": raw})).attributes["tool.args"]
    assert json.loads(value) == {
        "aws_secret_access_key": "[REDACTED:AWS_SECRET_KEY]",
        "region": "eu-west-1",
    }


def test_every_text_field_of_a_span_is_covered() -> None:
    llm = LLMCall(
        convention="openinference",
        span_type="llm",
        input_messages=[{"role": "user", "content": f"hi, {EMAIL}"}],
        output_messages=[{"role": "assistant", "content": "noted"}],
        tool_calls=[{"name": "lookup", "arguments": {"card": CARD}}],
        error_message=f"failed for {EMAIL}",
        user_id=EMAIL,
        tags=("vip", EMAIL),
    )
    span = make_span(
        {"a": ["x", {"b": EMAIL}], "n": 4111111111111111},
        events=(SpanEvent(1, "exception", {"exception.message": f"no user {EMAIL}"}),),
        links=(SpanLink("ab" * 16, "cd" * 8, attributes={"peer": EMAIL}),),
        resource_attributes={"host.owner": EMAIL},
        scope_attributes={"owner": EMAIL},
        status_message=f"error for {EMAIL}",
        llm=llm,
    )
    result = redact_one(span)
    flat = repr(result)
    assert EMAIL not in flat and "4111" not in flat
    assert result.attributes == {
        "a": ["x", {"b": "[REDACTED:EMAIL]"}],
        "n": "[REDACTED:CREDIT_CARD]",
    }
    assert result.events[0].attributes["exception.message"] == "no user [REDACTED:EMAIL]"
    assert result.llm is not None
    assert result.llm.tool_calls == [
        {"name": "lookup", "arguments": {"card": "[REDACTED:CREDIT_CARD]"}}
    ]
    assert result.llm.output_messages is llm.output_messages
    assert result.llm.tags == ("vip", "[REDACTED:EMAIL]")


# --- the processor contract ---------------------------------------------------------------------


def test_empty_batch() -> None:
    assert build(RedactConfig())([]) == []


def test_input_is_not_mutated() -> None:
    span = make_span(
        {"msg": f"mail {EMAIL}", "nested": {"list": [EMAIL, 1]}},
        events=(SpanEvent(1, "e", {"m": EMAIL}),),
        llm=LLMCall(convention="c", span_type="llm", input_messages=[{"content": EMAIL}]),
    )
    before = copy.deepcopy(span)
    result = redact_one(span)
    assert span == before
    assert result != span


def test_result_is_independent_of_how_the_batch_is_split() -> None:
    cases = [case for case in CORPUS if case["label"] == "positive"][:60]
    spans = [
        make_span(
            {"gen_ai.input.messages": case["text"]}, project_id=f"p{i % 3}", span_id=f"{i:016x}"
        )
        for i, case in enumerate(cases)
    ]
    spans += spans[:10]  # repeated strings hit the per-batch cache
    config = RedactConfig(modes={Kind.EMAIL: Mode.HASH}, hash_secret=SECRET)
    whole = build(config)(spans)
    one_by_one = [result for span in spans for result in build(config)([span])]
    halves = build(config)(spans[:31]) + build(config)(spans[31:])
    assert whole == one_by_one == halves


def test_stats_count_per_rule_once_per_batch() -> None:
    stats = RedactStats()
    redact = build(RedactConfig(), stats)
    redact([make_span({"a": f"{EMAIL} {EMAIL}", "b": CARD})])
    redact([make_span({"a": EMAIL})])
    assert stats.snapshot().detections == {"email": 3, "credit_card": 1}
    assert stats.drain().detections == {"email": 3, "credit_card": 1}
    assert stats.snapshot().detections == {}


def test_a_failure_rejects_the_batch_and_counts_nothing() -> None:
    stats = RedactStats()
    deep: Any = EMAIL
    for _ in range(MAX_DEPTH + 1):
        deep = {"x": deep}
    spans = [make_span({"ok": EMAIL}), make_span({"deep": deep})]
    with pytest.raises(ValueError, match="deeper than"):
        build(RedactConfig(), stats)(spans)
    assert stats.snapshot().detections == {}


def test_deep_json_in_a_string_is_scanned_as_text() -> None:
    raw = "[" * (MAX_DEPTH + 5) + json.dumps(EMAIL) + "]" * (MAX_DEPTH + 5)
    value, counts = redact_value(raw)
    assert counts == {"email": 1}
    assert EMAIL not in str(value)


def test_real_captured_payloads_pass_through_unchanged() -> None:
    # Spans exported by real instrumentation libraries, normalised, hold no personal data.
    normalise = normalize.build(normalize.NormalizeConfig.from_mapping({}))
    stats = RedactStats()
    redact = build(RedactConfig(), stats)
    paths = sorted(p for p in LLM_CORPUS.glob("*/*.otlp.pb") if p.name.count(".") == 2)
    assert paths
    for path in paths:
        request = ExportTraceServiceRequest.FromString(path.read_bytes())
        spans = normalise(decode_export_request(request, "p1", 1).spans)
        assert redact(spans) == spans, path
    assert stats.snapshot().detections == {}


def test_personal_data_in_a_real_payload_is_gone_from_attributes_and_llm_fields() -> None:
    path = LLM_CORPUS / "otel-genai-v2-latest" / "chat.otlp.pb"
    request = ExportTraceServiceRequest.FromString(path.read_bytes())
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                for attribute in span.attributes:
                    value = attribute.value.string_value
                    attribute.value.string_value = value.replace("France", f"France ({EMAIL})")
    normalise = normalize.build(normalize.NormalizeConfig.from_mapping({}))
    spans = normalise(decode_export_request(request, "p1", 1).spans)
    assert EMAIL in repr([span.llm for span in spans])
    assert EMAIL not in repr(build(RedactConfig())(spans))


# --- config ---------------------------------------------------------------------------------------


def test_config_from_mapping() -> None:
    config = RedactConfig.from_mapping(
        {
            "default_mode": "mask",
            "modes": {"email": "hash", "private_key": "drop"},
            "disabled": ["ipv6"],
            "allow_values": ["support@acme.example"],
            "allow_patterns": [r".*@acme\.example"],
            "allow_keys": ["service.name"],
            "hash_secret": SECRET,
            "projects": {"p1": {"modes": {"email": "mask"}, "disabled": ["phone"]}},
        }
    )
    assert config.modes == {Kind.EMAIL: Mode.HASH, Kind.PRIVATE_KEY: Mode.DROP}
    assert config.disabled == {Kind.IPV6}
    assert config.projects["p1"].disabled == {Kind.PHONE}
    assert SECRET not in repr(config)
    assert RedactConfig.from_mapping({}) == RedactConfig()


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"colour": "red"}, "colour: unknown key"),
        ({"default_mode": "blur"}, "default_mode: expected one of mask, hash, drop"),
        ({"modes": {"emial": "mask"}}, "modes.emial: unknown rule"),
        ({"modes": {"email": "erase"}}, "modes.email: expected one of"),
        ({"disabled": "email"}, "disabled: expected a list of strings"),
        ({"disabled": ["ssn", "sin"]}, r"disabled\[1\]: unknown rule 'sin'"),
        ({"allow_patterns": ["(unclosed"]}, r"allow_patterns\[0\]: invalid regex"),
        ({"modes": {"email": "hash"}}, r"hash_secret: at least 16 characters .* \(modes.email\)"),
        ({"hash_secret": 12345}, "hash_secret: expected a string"),
        ({"projects": {"p1": {"mode": {}}}}, "projects.p1.mode: unknown key"),
        ({"projects": {"p1": {"modes": {"ssn": "hash"}}}}, r"projects.p1.modes.ssn\)"),
    ],
)
def test_config_errors_name_the_bad_key(mapping: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedactConfig.from_mapping(mapping)


def test_config_built_in_code_accepts_plain_names_and_checks_them() -> None:
    config = RedactConfig(modes={"email": "drop"}, disabled=frozenset({"ipv4"}))  # type: ignore[dict-item]
    span = make_span({"a": EMAIL, "b": "203.0.113.9 and 4111111111111111"})
    assert redact_one(span, config).attributes == {"b": "203.0.113.9 and [REDACTED:CREDIT_CARD]"}
    with pytest.raises(ValueError, match="unknown rule 'emial'"):
        RedactConfig(modes={"emial": "mask"})  # type: ignore[dict-item]


def test_config_reports_every_problem_at_once() -> None:
    with pytest.raises(ValueError) as error:
        RedactConfig.from_mapping({"colour": 1, "modes": {"x": "mask"}, "disabled": ["y"]})
    assert str(error.value).count(";") == 2


def test_hash_secret_never_appears_in_errors() -> None:
    with pytest.raises(ValueError) as error:
        RedactConfig.from_mapping({"hash_secret": "short-secret", "modes": {"email": "hash"}})
    assert "short-secret" not in str(error.value)
