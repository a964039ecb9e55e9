"""PostgreSQL and Redis for the fault tests: their own processes, which a test may kill, crash
and restart on the same port and data without disturbing the session's shared servers."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
import yaml

from deploy.local import binaries, sysuser
from deploy.local.servers import HOST, LocalServer, find_free_port, start_postgres

ROOT = Path(__file__).resolve().parents[2]


def production_redis_arguments() -> list[str]:
    """The persistence arguments docker-compose.yml gives redis-server (what production runs)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command: list[str] = compose["services"]["redis"]["command"]
    assert command[0] == "redis-server", command
    return command[1:]


@dataclass
class RedisProcess:
    """A redis-server on a fixed port with its files in `data_dir`; `kill` is a crash (SIGKILL),
    `start` again replays what it persisted."""

    data_dir: Path
    arguments: list[str]
    port: int = field(default_factory=find_free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The URL of database 0."""
        return f"redis://{HOST}:{self.port}/0"

    def start(self, timeout_seconds: float = 30) -> None:
        """Start (or restart) and wait until it answers PING (after replaying its AOF)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            str(binaries.find_redis_server()),
            "--port",
            str(self.port),
            "--bind",
            HOST,
            "--dir",
            ".",
            "--logfile",
            "redis.log",
            "--daemonize",
            "no",
            *self.arguments,
        ]
        self.process = subprocess.Popen(argv, cwd=self.data_dir, stdin=subprocess.DEVNULL)
        client = redis.Redis(host=HOST, port=self.port, socket_timeout=1)
        deadline = time.monotonic() + timeout_seconds
        try:
            while True:
                try:
                    client.ping()
                    return
                except (redis.ConnectionError, redis.TimeoutError):
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: what an out-of-memory kill or a crash does (no final AOF flush)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@dataclass
class PostgresProcess:
    """A PostgreSQL cluster with durable settings (fsync on, as in production) on a fixed port."""

    data_dir: Path
    port: int = field(default_factory=find_free_port)
    server: LocalServer | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The URL of the `postgres` database (superuser, trust auth)."""
        assert self.server is not None
        return self.server.url

    def start(self) -> None:
        """Start, or restart on the same data and port (crash recovery runs first if needed)."""
        self.server = start_postgres(self.data_dir, self.port)

    def crash(self) -> None:
        """`pg_ctl stop -m immediate`: every backend dies at once, recovery replays the WAL."""
        assert self.server is not None
        user = sysuser.server_user()
        bindir = binaries.find_postgres_bindir(user)
        argv = [
            str(bindir / "pg_ctl"),
            "stop",
            "-D",
            str(self.server.data_dir),
            "-m",
            "immediate",
            "-w",
            "-t",
            "60",
        ]
        subprocess.run(
            sysuser.as_user(user, argv),
            cwd="/",
            check=True,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.server = None

    def remove(self) -> None:
        """Stop it (fast shutdown) and delete its data (which may live outside data_dir, in the
        /tmp directory used when the server's user cannot reach data_dir)."""
        if self.server is not None:
            self.server.stop()
            shutil.rmtree(self.server.data_dir, ignore_errors=True)
            self.server = None
