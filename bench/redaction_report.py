"""Precision and recall of the redactor per rule over the labelled corpus (test-data/pii).

Run: .venv/bin/python bench/redaction_report.py            (prints the table)
     .venv/bin/python bench/redaction_report.py --write     (updates docs/redaction.md)

A positive case counts as a true positive for each kind it holds when that kind was detected
and none of its secrets survives anywhere in the output (JSON leaves included); otherwise a
false negative. A detection of a kind a case does not hold (any detection on a negative) is a
false positive of that kind.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.collector.processors.pii.kinds import Kind
from services.collector.processors.pii.walker import redact_value

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "test-data" / "pii" / "corpus.jsonl"
DOC = ROOT / "docs" / "redaction.md"
START, END = "<!-- corpus-table:start -->", "<!-- corpus-table:end -->"


@dataclass
class Score:
    """Counts for one kind."""

    true_positives: int = 0
    false_negatives: int = 0
    false_positives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        held = self.true_positives + self.false_negatives
        return self.true_positives / held if held else 1.0


@dataclass
class Report:
    """Scores per kind, and the cases that leaked a secret or changed a negative."""

    scores: dict[str, Score] = field(default_factory=lambda: {kind.value: Score() for kind in Kind})
    failures: list[str] = field(default_factory=list)
    positives: int = 0
    negatives: int = 0


def load_corpus(path: Path = CORPUS) -> list[dict[str, Any]]:
    """The labelled cases, one JSON object per line."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def output_texts(output: str, fmt: str) -> list[str]:
    """The output and, for JSON cases, every string inside it (JSON in JSON included)."""
    return [output, *_leaves(json.loads(output))] if fmt == "json" else [output]


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str):
        yield value
        if value[:1] in "[{":
            with contextlib.suppress(ValueError):
                yield from _leaves(json.loads(value))


def check_case(case: dict[str, Any]) -> tuple[str, dict[str, int], list[str]]:
    """Redact one case with the default policy: the output, detections per kind, and what
    went wrong (a secret that survived, or a negative that changed)."""
    output, counts = redact_value(case["text"])
    assert isinstance(output, str)
    problems: list[str] = []
    if case["label"] == "positive":
        texts = output_texts(output, case["format"])
        for kind, secrets in case["secrets"].items():
            problems += [f"{kind} leaked: {s!r}" for s in secrets if any(s in t for t in texts)]
    elif output != case["text"]:
        problems.append(f"negative changed: {counts}")
    return output, counts, problems


def evaluate(cases: list[dict[str, Any]]) -> Report:
    """Score every case of the corpus."""
    report = Report()
    for case in cases:
        output, counts, problems = check_case(case)
        report.failures += [f"{case['id']}: {problem}" for problem in problems]
        expected = case.get("secrets", {})
        if case["label"] == "positive":
            report.positives += 1
        else:
            report.negatives += 1
        for kind, secrets in expected.items():
            texts = output_texts(output, case["format"])
            leaked = any(secret in text for secret in secrets for text in texts)
            if counts.get(kind, 0) and not leaked:
                report.scores[kind].true_positives += 1
            else:
                report.scores[kind].false_negatives += 1
        for kind in counts:
            if kind not in expected:
                report.scores[kind].false_positives += 1
    return report


def render(report: Report) -> str:
    """The markdown table of the report."""
    lines = [
        f"Corpus: {report.positives} positive cases, {report.negatives} hard negatives "
        f"(`{CORPUS.relative_to(ROOT)}`).",
        "",
        "| rule | cases holding it | true pos. | false neg. | false pos. | precision | recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    total = Score()
    for kind, score in report.scores.items():
        held = score.true_positives + score.false_negatives
        lines.append(
            f"| {kind} | {held} | {score.true_positives} | {score.false_negatives} | "
            f"{score.false_positives} | {score.precision:.3f} | {score.recall:.3f} |"
        )
        total.true_positives += score.true_positives
        total.false_negatives += score.false_negatives
        total.false_positives += score.false_positives
    lines.append(
        f"| **all** | {total.true_positives + total.false_negatives} | {total.true_positives} | "
        f"{total.false_negatives} | {total.false_positives} | {total.precision:.3f} | "
        f"{total.recall:.3f} |"
    )
    lines += ["", f"Leaked secrets or changed negatives: {len(report.failures)}."]
    return "\n".join(lines)


def main() -> None:
    """Print the table, or write it between the markers of docs/redaction.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update {DOC.relative_to(ROOT)}")
    args = parser.parse_args()
    report = evaluate(load_corpus())
    table = render(report)
    for failure in report.failures:
        print(failure)
    if args.write:
        pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
        text = DOC.read_text()
        if not pattern.search(text):
            raise SystemExit(f"{DOC}: markers {START} / {END} not found")
        DOC.write_text(pattern.sub(lambda _: f"{START}\n{table}\n{END}", text))
        print(f"updated {DOC.relative_to(ROOT)}")
    else:
        print(table)


if __name__ == "__main__":
    main()
