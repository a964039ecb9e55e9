"""Start and stop local PostgreSQL and Redis: persistent for development, throwaway for tests."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import psycopg
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from deploy.local import binaries, sysuser

HOST = "127.0.0.1"
POSTGRES_USER = "postgres"  # the database superuser initdb creates, whatever the OS user is
PORT_ATTEMPTS = 3
PORT_IN_USE = "Address already in use"

SETTINGS_FILE = "llmobs.conf"
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    # TCP only: no socket directory to own, and no 107-byte socket path limit to outgrow.
    "unix_socket_directories": "''",
    "max_connections": "200",
}
# A throwaway cluster is never recovered after a crash, so durability buys nothing.
_THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


# BusyLoadingError (still replaying its append-only file) is a ConnectionError too.
_REDIS_NOT_READY = (redis.ConnectionError, redis.TimeoutError)


class ServerError(RuntimeError):
    """A local server could not be started or stopped; the message says why and where to look."""


@dataclass
class LocalServer:
    """A running local server: where to reach it, where its data and log are, how to stop it."""

    name: str
    url: str
    port: int
    data_dir: Path
    log_path: Path
    _stop: Callable[[], None] = field(repr=False)
    _is_stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        """Stop the server; calling it again does nothing."""
        if not self._is_stopped:
            self._is_stopped = True
            self._stop()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def is_port_free(port: int) -> bool:
    """Whether a server could bind 127.0.0.1:port right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def with_database(url: str, database: str) -> str:
    """Return the PostgreSQL `url` pointing at `database` instead of the one it names."""
    return f"{url.rsplit('/', 1)[0]}/{database}"


def fallback_data_dir(requested: Path) -> Path:
    """Return the /tmp directory used instead of `requested` when the server user can't reach it."""
    digest = hashlib.sha256(str(requested.resolve()).encode()).hexdigest()[:12]
    return Path("/tmp") / f"llmobs-{digest}-{requested.name}"


def start_postgres(
    data_dir: Path, port: int = 0, *, throwaway: bool = False, timeout_seconds: int = 60
) -> LocalServer:
    """Start PostgreSQL with trust auth on 127.0.0.1:port (0: any free port), data in data_dir.

    An empty data_dir is initialised, an existing cluster reused. A throwaway server trades
    durability for speed and deletes its data directory when stopped.
    """
    user = sysuser.server_user()
    bindir = binaries.find_postgres_bindir(user)
    data_dir = _reachable_data_dir(data_dir.resolve(), user)
    if throwaway and (data_dir / "PG_VERSION").exists():
        _empty(data_dir)
    if (data_dir / "PG_VERSION").exists():
        _check_cluster_version(bindir, data_dir)
        _stop_leftover_postgres(bindir, data_dir, user)
    else:
        _initdb(bindir, data_dir, user)
    _write_settings(data_dir, user, throwaway)
    log_path = data_dir / "postgresql.log"

    def start(chosen: int) -> LocalServer:
        argv = [str(bindir / "pg_ctl"), "start", "-D", str(data_dir), "-l", str(log_path)]
        argv += ["-o", f"-p {chosen}", "-w", "-t", str(timeout_seconds)]
        code, output = _run(user, argv)
        if code != 0:
            raise ServerError(f"PostgreSQL did not start: {output}\n{_tail(log_path)}")
        return LocalServer(
            "PostgreSQL",
            f"postgresql://{POSTGRES_USER}@{HOST}:{chosen}/postgres",
            chosen,
            data_dir,
            log_path,
            lambda: _stop_postgres(bindir, data_dir, user, throwaway=throwaway),
        )

    try:
        server = _with_port_retries(port, start)
    except ServerError:
        if throwaway:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
    _wait_until_ready(lambda: psycopg.connect(server.url, connect_timeout=2).close(), server)
    return server


def start_redis(
    data_dir: Path, port: int = 0, *, throwaway: bool = False, timeout_seconds: int = 30
) -> LocalServer:
    """Start Redis on 127.0.0.1:port (0: any free port) with its files in data_dir.

    A persistent server appends every write to a file fsynced each second; a throwaway one
    keeps nothing and deletes data_dir when stopped.
    """
    executable = binaries.find_redis_server()
    data_dir = data_dir.resolve()
    if not throwaway:
        _stop_leftover_redis(data_dir)
    log_path = data_dir / "redis.log"
    persistence = ["--save", "", "--appendonly", "no"]
    if not throwaway:
        persistence = ["--appendonly", "yes", "--appendfsync", "everysec"]

    def start(chosen: int) -> LocalServer:
        # Relative paths only: Redis 6 splits its arguments on spaces.
        argv = [str(executable), "--port", str(chosen), "--bind", HOST, "--dir", "."]
        argv += ["--logfile", log_path.name, "--pidfile", "redis.pid", "--daemonize", "no"]
        data_dir.mkdir(parents=True, exist_ok=True)  # again: a failed throwaway removed it
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [*argv, *persistence],
                cwd=data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal reaches only our own process group
            )
        server = LocalServer(
            "Redis",
            f"redis://{HOST}:{chosen}/0",
            chosen,
            data_dir,
            log_path,
            lambda: _stop_redis(process, data_dir, throwaway=throwaway),
        )
        # No retries inside the client: the readiness loop retries, checking the process too.
        client = redis.Redis(
            host=HOST, port=chosen, socket_timeout=1, retry=Retry(NoBackoff(), retries=0)
        )

        def ping() -> None:
            if process.poll() is not None:
                raise ServerError(f"redis-server exited with {process.returncode}")
            client.ping()

        _wait_until_ready(ping, server, timeout_seconds)
        client.close()
        return server

    return _with_port_retries(port, start)


def _with_port_retries(port: int, start: Callable[[int], LocalServer]) -> LocalServer:
    # A port found free can be taken before the server binds it: pick another and try again.
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            return start(port or find_free_port())
        except ServerError as error:
            if port or attempt == PORT_ATTEMPTS or PORT_IN_USE not in str(error):
                raise
    raise AssertionError("unreachable")


def _wait_until_ready(
    probe: Callable[[], None], server: LocalServer, timeout_seconds: float = 30
) -> None:
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            probe()
            return
        except (psycopg.OperationalError, *_REDIS_NOT_READY, ServerError) as error:
            if isinstance(error, ServerError) or time.monotonic() > deadline:
                log = _tail(server.log_path)  # before stop(), which deletes a throwaway's log
                server.stop()
                message = f"{server.name} on port {server.port} is not answering ({error})"
                raise ServerError(f"{message}\n{log}") from error
        time.sleep(0.05)


def _reachable_data_dir(requested: Path, user: str | None) -> Path:
    requested.mkdir(parents=True, exist_ok=True)
    sysuser.give(user, requested)
    if sysuser.can_write(user, requested):
        return requested
    fallback = fallback_data_dir(requested)
    print(
        f"PostgreSQL runs as {user!r}, who cannot reach {requested}: "
        f"keeping its data in {fallback} instead",
        file=sys.stderr,
    )
    fallback.mkdir(parents=True, exist_ok=True)
    sysuser.give(user, fallback)
    return fallback


def _initdb(bindir: Path, data_dir: Path, user: str | None) -> None:
    argv = [str(bindir / "initdb"), "-D", str(data_dir), "-U", POSTGRES_USER, "-A", "trust"]
    argv += ["-E", "UTF8", "--no-locale", "--no-sync"]
    code, output = _run(user, argv)
    if code != 0:
        raise ServerError(f"initdb failed for {data_dir}:\n{output}")
    with (data_dir / "postgresql.conf").open("a") as conf:
        conf.write(f"\ninclude_if_exists = '{SETTINGS_FILE}'\n")


def _write_settings(data_dir: Path, user: str | None, throwaway: bool) -> None:
    settings = {**_SETTINGS, **(_THROWAWAY_SETTINGS if throwaway else {})}
    path = data_dir / SETTINGS_FILE
    path.write_text("".join(f"{name} = {value}\n" for name, value in settings.items()))
    if user is not None:
        shutil.chown(path, user)


def _check_cluster_version(bindir: Path, data_dir: Path) -> None:
    cluster = int((data_dir / "PG_VERSION").read_text().strip())
    server = binaries.postgres_major_version(bindir)
    if cluster != server:
        raise ServerError(
            f"{data_dir} holds a PostgreSQL {cluster} cluster but the server found is "
            f"PostgreSQL {server} ({bindir}): remove that directory (make clean) to start afresh"
        )


def _stop_leftover_postgres(bindir: Path, data_dir: Path, user: str | None) -> None:
    code, _ = _run(user, [str(bindir / "pg_ctl"), "status", "-D", str(data_dir)])
    if code == 0:
        print(f"Stopping a PostgreSQL left running on {data_dir}", file=sys.stderr)
        _stop_postgres(bindir, data_dir, user, throwaway=False)


def _stop_postgres(bindir: Path, data_dir: Path, user: str | None, *, throwaway: bool) -> None:
    mode = "immediate" if throwaway else "fast"
    argv = [str(bindir / "pg_ctl"), "stop", "-D", str(data_dir), "-m", mode, "-w", "-t", "60"]
    code, output = _run(user, argv)
    if code != 0:
        raise ServerError(f"PostgreSQL on {data_dir} did not stop: {output}")
    if throwaway:
        shutil.rmtree(data_dir, ignore_errors=True)


def _stop_leftover_redis(data_dir: Path) -> None:
    # Two servers appending to one file would corrupt it: stop one left by a killed run.
    try:
        pid = int((data_dir / "redis.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"redis-server" in cmdline:
        print(f"Stopping a Redis left running on {data_dir} (pid {pid})", file=sys.stderr)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def _stop_redis(process: subprocess.Popen[bytes], data_dir: Path, *, throwaway: bool) -> None:
    process.terminate()  # SIGTERM: Redis flushes its append-only file and exits
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if throwaway:
        shutil.rmtree(data_dir, ignore_errors=True)


def _empty(directory: Path) -> None:
    for entry in directory.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _run(user: str | None, argv: Sequence[str]) -> tuple[int, str]:
    # Output goes to a file, not a pipe: a server forked by pg_ctl must not hold our pipe open.
    with tempfile.TemporaryFile("w+") as output:
        result = subprocess.run(
            sysuser.as_user(user, argv),
            cwd="/",  # the server user may not be allowed into our working directory
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in a terminal reaches only our own process group
            check=False,
        )
        output.seek(0)
        return result.returncode, output.read().strip()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return f"(no log at {path})"
    return f"last lines of {path}:\n" + "\n".join(text)
