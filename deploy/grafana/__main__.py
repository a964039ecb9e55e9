"""Write grafana/dashboards/*.json from the dashboards' code (`--check`: only compare)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from deploy.grafana import cost, errors, latency, overview, pipeline, sessions
from deploy.grafana.panels import Json

DASHBOARDS_DIR = Path(__file__).resolve().parents[2] / "grafana" / "dashboards"
BUILDERS: dict[str, Callable[[], Json]] = {
    "llm-overview.json": overview.build,
    "llm-cost-and-usage.json": cost.build,
    "llm-latency.json": latency.build,
    "llm-errors.json": errors.build,
    "llm-sessions-and-users.json": sessions.build,
    "pipeline-health.json": pipeline.build,
}


def render(build: Callable[[], Json]) -> str:
    """A dashboard as the JSON file Grafana's file provider reads."""
    return json.dumps(build(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the files, or with --check report the ones that differ from the code (exit 1)."""
    parser = argparse.ArgumentParser(prog="python -m deploy.grafana", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name, build in BUILDERS.items():
        path = DASHBOARDS_DIR / name
        text = render(build)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"out of date (run python -m deploy.grafana): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
