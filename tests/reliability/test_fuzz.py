"""Atheris runs of the OTLP decoders and the normaliser, bounded in time: 20 s per target under
`make test`, 10 minutes under `make reliability`. A crash, an unexpected exception or a hang
(over 10 s for one input) fails the run and leaves the input in the test's tmp directory."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reliability.fuzz.targets import TARGETS
from tests.reliability.ledger import FUZZ, Case, Ledger
from tests.reliability.scale import pick

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "test-data" / "llm-corpus"
CONVENTIONS = ROOT / "services" / "collector" / "processors" / "conventions"
SECONDS = pick(20, 600)
SEEDS = {
    "otlp_protobuf": ("*/*.otlp.pb", b"\x00"),
    "otlp_json": ("*/*.otlp.json", b"\x00"),
    "normalizer": ("*/*.otlp.pb", b""),
}


def write_seeds(target: str, directory: Path) -> int:
    """The real LLM corpus as starting inputs (prefixed with the byte that picks traces)."""
    pattern, prefix = SEEDS[target]
    directory.mkdir()
    paths = sorted(CORPUS.glob(pattern))
    for path in paths:
        (directory / f"{path.parent.name}-{path.name}").write_bytes(prefix + path.read_bytes())
    return len(paths)


def write_dictionary(path: Path) -> None:
    """Attribute names the conventions look for, as a libFuzzer dictionary (mutations then
    insert real keys such as gen_ai.usage.input_tokens)."""
    names: set[str] = set()
    for module in CONVENTIONS.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and re.fullmatch(r"[a-z_][a-z0-9_.]{2,60}", value):
                names.add(value)
    path.write_text("".join(f'"{name}"\n' for name in sorted(names)))


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_fuzz_target(target: str, tmp_path: Path, ledger: Ledger) -> None:
    seeds = write_seeds(target, tmp_path / "corpus")
    write_dictionary(tmp_path / "names.dict")
    command = [
        sys.executable,
        "-m",
        "tests.reliability.fuzz.run",
        target,
        f"-max_total_time={SECONDS}",
        "-timeout=10",
        "-rss_limit_mb=2048",
        f"-dict={tmp_path / 'names.dict'}",
        f"-artifact_prefix={tmp_path}/",
        "-print_final_stats=1",
        str(tmp_path / "corpus"),
    ]
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=SECONDS + 120
    )
    elapsed = time.monotonic() - started
    (tmp_path / "fuzz.log").write_text(result.stdout + result.stderr)
    runs = re.search(r"Done (\d+) runs", result.stderr)
    findings = sorted(
        p.name
        for p in tmp_path.glob("*")
        if p.name.startswith(("crash-", "timeout-", "oom-", "leak-"))
    )
    case = ledger.record(
        Case(
            FUZZ,
            target,
            f"atheris {SECONDS} s, seeded with {seeds} real LLM exports",
            {
                "seconds": round(elapsed),
                "executions": int(runs.group(1)) if runs else 0,
                "crashes": len(findings),
            },
            "; ".join(findings) or "no crash, no unexpected exception, no hang",
        )
    )
    assert result.returncode == 0 and not findings, result.stderr[-4000:]
    assert runs and int(runs.group(1)) > 0, result.stderr[-2000:]
    case.passed = True


FINDINGS = Path(__file__).parent / "fuzz" / "findings"


@pytest.mark.parametrize("finding", sorted(FINDINGS.glob("*.bin")), ids=lambda p: p.stem)
def test_fuzz_findings_stay_fixed(finding: Path) -> None:
    """Inputs that once crashed a target (named `<target>-<what>.bin`) pass through it now."""
    target = TARGETS[finding.stem.split("-", 1)[0]]
    target(finding.read_bytes())
