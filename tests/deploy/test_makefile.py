"""The Makefile: every target documented by `make help` and in the README; seed and reset run
the dev tools with the arguments they are given."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.deploy.config_env import ROOT


def make(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.fail("`make` is not installed: apt-get install -y make", pytrace=False)
    result = subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def phony_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    found = re.search(r"^\.PHONY:(.*)$", text, re.MULTILINE)
    assert found
    return set(found[1].split())


def test_every_target_is_in_make_help_and_the_readme() -> None:
    helped = set(re.findall(r"^\s+make (\S+)", make("help"), re.MULTILINE))
    assert helped == phony_targets()
    readme = (ROOT / "README.md").read_text()
    for target in phony_targets():
        assert f"make {target}" in readme, target


def test_seed_and_reset_run_the_dev_tools_with_their_arguments() -> None:
    # -n prints the commands without running them; the venv stamp is up to date or rebuilt.
    seed = make("-n", "seed", "SEED_ARGS=--days 2 --traces 300")
    assert "-m deploy.devutils.seed --days 2 --traces 300" in seed
    assert "-m deploy.devutils.reset" in make("-n", "reset")
