"""deploy/docker/Dockerfile and .dockerignore, checked without a Docker engine.

The instructions are parsed and checked for what the image promises (multi-stage, no dev
extras, non-root, health check); the HEALTHCHECK command itself is run against a local server.
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.deploy.config_env import ROOT

DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def parse(text: str) -> list[Instruction]:
    """Instructions in order, continuation lines joined, comments and parser directives dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """The instructions of each build stage, FROM first (global ARGs come before the first)."""
    result: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def global_args(instructions: list[Instruction]) -> dict[str, str]:
    args = {}
    for instruction in instructions:
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG":
            name, _, default = instruction.arguments.partition("=")
            args[name] = default
    return args


def env_of(stage: list[Instruction]) -> dict[str, str]:
    env = {}
    for instruction in stage:
        if instruction.keyword == "ENV":
            env.update(re.findall(r"(\w+)=(\S+)", instruction.arguments))
    return env


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse(DOCKERFILE.read_text())


def test_builds_in_a_builder_stage_and_runs_on_python_slim(
    instructions: list[Instruction],
) -> None:
    built = stages(instructions)
    assert len(built) >= 2, "multi-stage: a builder and a runtime stage"
    args = global_args(instructions)
    runtime_image = re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], built[-1][0].arguments.split()[0])
    assert runtime_image == "python:3.11-slim"
    assert any(
        i.keyword == "COPY" and i.arguments.startswith("--from=builder") for i in built[-1]
    ), "the runtime stage takes the virtualenv from the builder"


def test_runtime_environment(instructions: list[Instruction]) -> None:
    env = env_of(stages(instructions)[-1])
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["HEALTHCHECK_URL"] == "http://127.0.0.1:8080/health"


def test_runs_as_a_non_root_user(instructions: list[Instruction]) -> None:
    runtime = stages(instructions)[-1]
    users = [i.arguments.split(":")[0] for i in runtime if i.keyword == "USER"]
    assert users, "the runtime stage sets USER"
    assert users[-1] not in {"root", "0"}
    keywords = [i.keyword for i in runtime]
    assert keywords.index("USER") < keywords.index("CMD")


def test_installs_no_dev_or_local_extras(instructions: list[Instruction]) -> None:
    for instruction in instructions:
        if instruction.keyword == "RUN":
            assert not re.search(r"\[[^\]]*(dev|local)", instruction.arguments), instruction


def test_copies_only_what_exists_and_is_not_ignored(instructions: list[Instruction]) -> None:
    ignored = [line for line in DOCKERIGNORE.read_text().splitlines() if line and line[0] != "#"]
    for instruction in instructions:
        if instruction.keyword != "COPY" or instruction.arguments.startswith("--from"):
            continue
        *sources, _ = instruction.arguments.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such path"
            assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source


def test_default_command_is_a_service(instructions: list[Instruction]) -> None:
    command = json.loads(stages(instructions)[-1][-1].arguments)
    assert command[:2] == ["python", "-m"]
    assert (ROOT / command[2].replace(".", "/") / "__main__.py").is_file()


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    entries = set(DOCKERIGNORE.read_text().splitlines())
    assert {".git", ".venv", ".data", ".env", "**/node_modules", "**/__pycache__"} <= entries
    assert {".mypy_cache", ".ruff_cache", ".pytest_cache"} <= entries


# --- the HEALTHCHECK command, run for real ----------------------------------------------------


def healthcheck_command(instructions: list[Instruction]) -> list[str]:
    (check,) = [i for i in stages(instructions)[-1] if i.keyword == "HEALTHCHECK"]
    _, _, command = check.arguments.partition("CMD ")
    argv = json.loads(command)
    assert argv[0] == "python"
    return [sys.executable, *argv[1:]]


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("status", "is_healthy"), [(200, True), (503, False)])
def test_healthcheck_reflects_the_health_endpoint(
    instructions: list[Instruction],
    health_server: ThreadingHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    is_healthy: bool,
) -> None:
    monkeypatch.setattr(_Health, "status", status)
    port = health_server.server_address[1]
    env = {"HEALTHCHECK_URL": f"http://127.0.0.1:{port}/health", "HTTP_PROXY": "http://0.0.0.0:9"}
    result = subprocess.run(
        healthcheck_command(instructions), env=env, capture_output=True, timeout=30, check=False
    )
    assert (result.returncode == 0) is is_healthy, result.stderr


def test_healthcheck_fails_when_nothing_listens(instructions: list[Instruction]) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Health) as probe:
        port = probe.server_address[1]  # closed on exit: nothing listens there afterwards
    env = {"HEALTHCHECK_URL": f"http://127.0.0.1:{port}/health"}
    result = subprocess.run(
        healthcheck_command(instructions), env=env, capture_output=True, timeout=30, check=False
    )
    assert result.returncode != 0
