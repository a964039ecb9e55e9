"""`make bench` and its parts: each target runs its benchmark module with the sizes the
Makefile names, and each module answers --help (its imports and arguments are sound)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.deploy.config_env import ROOT
from tests.deploy.test_makefile import make, phony_targets

MODULES = {
    "bench-ingest": "bench.ingest",
    "bench-phoenix": "bench.side_by_side",
    "bench-storage": "bench.bench_storage_write",
    "bench-query": "bench.bench_api",
}


def test_bench_runs_every_part() -> None:
    assert {"bench", *MODULES} <= phony_targets()
    text = (ROOT / "Makefile").read_text()
    found = re.search(r"^bench:(.*?)##", text, re.MULTILINE)
    assert found
    assert set(found[1].split()) == set(MODULES)


@pytest.mark.parametrize("target", sorted(MODULES))
def test_each_target_runs_its_module_and_writes_the_docs(target: str) -> None:
    commands = make("-n", target, "INGEST_SPANS=123", "SIDE_SPANS=456", "WRITER_SPANS=789",
                    "QUERY_SPANS=1011", "OVERLOAD_SPANS=1213")  # fmt: skip
    runs = [line for line in commands.splitlines() if f"-m {MODULES[target]} " in line]
    assert runs, commands
    for line in runs:
        assert "--write-docs" in line
        assert re.search(r"--spans (123|456|789|1011|1213)\b", line), line


@pytest.mark.parametrize("module", sorted(MODULES.values()))
def test_each_module_answers_help(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True,
        check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "--spans" in result.stdout
    assert "--write-docs" in result.stdout
