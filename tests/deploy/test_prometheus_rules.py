"""deploy/prometheus: promtool accepts the config and the rules, and its unit tests exercise
every alert (each fires at least once and every rule file test passes)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.config_env import ROOT

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULES = PROMETHEUS_DIR / "alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "alerts.test.yml"


def promtool(bindir: Path, *args: str) -> str:
    result = subprocess.run(
        [str(bindir / "promtool"), *args],
        cwd=PROMETHEUS_DIR, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


def rules() -> list[dict[str, Any]]:
    return [rule for group in load(RULES)["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_config_and_its_rule_file(prometheus_bindir: Path) -> None:
    out = promtool(prometheus_bindir, "check", "config", CONFIG.name)
    assert "SUCCESS: 1 rule files found" in out
    out = promtool(prometheus_bindir, "check", "rules", RULES.name)
    assert f"SUCCESS: {len(rules())} rules found" in out


def test_promtool_unit_tests_of_the_rules_pass(prometheus_bindir: Path) -> None:
    out = promtool(prometheus_bindir, "test", "rules", RULE_TESTS.name)
    assert "SUCCESS" in out


def test_every_alert_is_seen_firing_and_every_recording_rule_evaluated() -> None:
    tests = load(RULE_TESTS)
    assert tests["rule_files"] == [RULES.name]
    fired = {
        case["alertname"]
        for test in tests["tests"]
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    assert alerts == fired, f"never seen firing: {sorted(alerts - fired)}"
    evaluated = {
        case["expr"] for test in tests["tests"] for case in test.get("promql_expr_test", [])
    }
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    used_by_alerts = {name for name in recorded if any(name in r.get("expr", "") for r in rules())}
    assert recorded <= evaluated | used_by_alerts, f"untested: {sorted(recorded - evaluated)}"


def test_every_alert_says_how_bad_and_what_happened() -> None:
    for rule in rules():
        if "alert" in rule:
            assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
            assert {"summary", "description"} <= rule["annotations"].keys(), rule["alert"]
