"""The ledger of the reliability suite: what each case sent, what was acknowledged, stored and
lost, written as JSON for `python -m tests.reliability.report` to turn into docs/reliability.md."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FAULT = "fault"
HOSTILE = "hostile input"
FUZZ = "fuzz"
SECURITY = "security"
# A run that must lose data: shows the counting finds loss where the settings allow it.
CONTROL = "control"
CATEGORIES = (FAULT, CONTROL, HOSTILE, FUZZ, SECURITY)


@dataclass
class Case:
    """One case: its counts by name (e.g. sent, acknowledged, stored, lost) and what happened."""

    category: str
    name: str
    load: str
    counts: dict[str, int | float] = field(default_factory=dict)
    notes: str = ""
    passed: bool = False
    # "short" (make test) or "full" (make reliability).
    mode: str = ""


@dataclass
class FaultCounts:
    """Records of a fault test: sent, acknowledged by the collector, stored, and the difference."""

    sent: int
    acknowledged: int
    stored: int
    lost: int
    duplicates: int
    retried: int = 0

    def as_dict(self) -> dict[str, int | float]:
        """The counts under their table column names."""
        return dict(asdict(self))


class Ledger:
    """Collects the cases of one test session and writes them to a JSON file."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.cases: list[Case] = []

    def record(self, case: Case) -> Case:
        """Add a case (its `passed` is set by the test once its assertions hold)."""
        case.mode = self.mode
        self.cases.append(case)
        return case

    def document(self) -> dict[str, Any]:
        """The JSON document: when, where, in which mode, and every case."""
        return {
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": f"{platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}",
            "cases": [asdict(case) for case in self.cases],
        }

    def write(self, path: Path) -> None:
        """Write the document, replacing the cases of the same category and name in an existing
        file (a run of a subset updates only its own rows)."""
        document = self.document()
        if path.exists():
            previous = json.loads(path.read_text())
            fresh = {(case["category"], case["name"]) for case in document["cases"]}
            kept = [c for c in previous.get("cases", []) if (c["category"], c["name"]) not in fresh]
            document["cases"] = kept + document["cases"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
