"""Running a service under watchfiles, so that saving one of its files restarts it."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# How long a service gets to exit after SIGINT before watchfiles kills it.
SIGINT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Service:
    """A service started as `python -m module`, restarted when anything under `watch` changes."""

    name: str
    module: str
    watch: tuple[str, ...]


@contextmanager
def run_reloading(
    service: Service, cwd: Path, env: Mapping[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `service` under watchfiles with its output prefixed by its name; stop it on exit.

    A service that exits (a crash, a syntax error) stays down, its error on screen, until the
    next save under `watch`: watchfiles restarts the command only on a change.
    """
    command = shlex.join([sys.executable, "-m", service.module])
    argv = [sys.executable, "-m", "watchfiles", "--sigint-timeout", str(SIGINT_TIMEOUT_SECONDS)]
    argv += [command, *(str(cwd / path) for path in service.watch)]
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches only us; we stop the services in order
    )
    assert process.stdout is not None
    relay = threading.Thread(target=_relay, args=(service.name, process.stdout), daemon=True)
    relay.start()
    try:
        yield process
    finally:
        _stop(process)
        relay.join(timeout=5)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        # watchfiles turns SIGTERM into a clean stop: SIGINT to the service, then SIGKILL.
        process.terminate()
        try:
            process.wait(timeout=SIGINT_TIMEOUT_SECONDS + 5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _relay(name: str, stream: IO[bytes]) -> None:
    prefix = f"{name:>9} | ".encode()
    out = sys.stdout.buffer
    for line in iter(stream.readline, b""):
        out.write(prefix + line)
        out.flush()
