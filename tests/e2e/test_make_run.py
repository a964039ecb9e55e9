"""`make run` (python -m deploy.local.stack run) on the test's database, Redis and free ports: it
prints the endpoints it was given, and saving a service's file restarts that service: a new value
is served within seconds, a syntax error keeps the service down with the error shown until the
next good save brings it back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from deploy.local.servers import find_free_port
from tests.e2e.services import ROOT

BUILD_INFO = ROOT / "services" / "api" / "build_info.py"
PORT_VARIABLES = (
    "COLLECTOR_GRPC_PORT", "COLLECTOR_HTTP_PORT", "COLLECTOR_METRICS_PORT", "STORAGE_HTTP_PORT",
    "STORAGE_METRICS_PORT", "API_PORT", "API_METRICS_PORT",
)  # fmt: skip
# A liveness bound, not a speed claim (reloads take 1-2 s on an idle machine, longer on a busy
# one): the test checks that a save is picked up at all, never how fast.
RELOAD_SECONDS = 20.0


class Output:
    """The stack's output, collected line by line by a thread."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            self.lines.append(line.decode(errors="replace"))

    def text(self) -> str:
        return "".join(self.lines)


@contextmanager
def make_run(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], Output]]:
    """The stack as `make run` starts it; stopped with SIGINT (Ctrl-C) afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy.local.stack", "run"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    output = Output(process.stdout)
    try:
        yield process, output
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def health(url: str) -> dict[str, str] | None:
    """The API's /health body, or None while nothing answers."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            body: dict[str, str] = json.load(response)
            return body
    except OSError:
        return None


def wait_until(
    condition: Callable[[], bool], timeout_seconds: float, what: str, output: Output
) -> float:
    """Seconds until `condition` held; AssertionError with the stack's output on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout_seconds}s:\n{output.text()[-4000:]}")


def build_module(build: str) -> str:
    return f'"""Changed by tests/e2e/test_make_run.py."""\n\nVERSION = "0.1.0"\nBUILD = "{build}"\n'


def save(path: Path, text: str) -> None:
    """Write the whole file at once, as an editor saves it."""
    path.write_text(text)


def test_make_run_serves_the_given_ports_and_reloads_a_saved_service(
    database_url: str, redis_url: str
) -> None:
    ports = {name: str(find_free_port()) for name in PORT_VARIABLES}
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, **ports}
    env |= {"COLLECTOR_HOST": "127.0.0.1", "STORAGE_HOST": "127.0.0.1", "API_HOST": "127.0.0.1"}
    api_url = f"http://127.0.0.1:{ports['API_PORT']}"
    original = BUILD_INFO.read_text()
    with make_run(env) as (process, output):
        wait_until(lambda: health(api_url) is not None, 60, "the API's /health", output)
        printed = output.text()
        assert f"API                  {api_url}" in printed, printed
        assert f"http://127.0.0.1:{ports['COLLECTOR_HTTP_PORT']}" in printed
        assert ":4318" not in printed and ":8080" not in printed
        first = health(api_url)
        assert first is not None and first["build"] == "dev"
        new_build = f"reload-{uuid.uuid4().hex[:8]}"
        try:
            save(BUILD_INFO, build_module(new_build))
            elapsed = wait_until(
                lambda: (health(api_url) or {}).get("build") == new_build,
                RELOAD_SECONDS, "the saved build served", output,
            )  # fmt: skip
            print(f"new build served {elapsed:.2f} s after the save")

            save(BUILD_INFO, build_module(new_build) + "def broken(:\n")
            wait_until(lambda: health(api_url) is None, 10, "the API going down", output)
            wait_until(lambda: "SyntaxError" in output.text(), 5, "the error shown", output)
            time.sleep(1.5)
            assert health(api_url) is None, "a broken save must keep the API down"
            assert process.poll() is None, "the stack must keep running"

            fixed = f"fixed-{uuid.uuid4().hex[:8]}"
            save(BUILD_INFO, build_module(fixed))
            wait_until(
                lambda: (health(api_url) or {}).get("build") == fixed,
                RELOAD_SECONDS + 2, "the API back after a good save", output,
            )  # fmt: skip
        finally:
            save(BUILD_INFO, original)
        wait_until(
            lambda: (health(api_url) or {}).get("build") == "dev",
            RELOAD_SECONDS + 2, "the restored file served", output,
        )  # fmt: skip
    assert BUILD_INFO.read_text() == original
    assert process.returncode == 0, output.text()[-3000:]
