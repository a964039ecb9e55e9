"""The unprivileged system user PostgreSQL runs as when this process is root."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

PREFERRED_USER = "postgres"
CREATED_USER = "llmobs-postgres"


class SystemUserError(RuntimeError):
    """The unprivileged user could not be found, created or switched to."""


def is_root() -> bool:
    """Whether this process runs with effective uid 0."""
    return os.geteuid() == 0


def server_user() -> str | None:
    """Return the OS user to run PostgreSQL as: None unless root, else `postgres` or our own."""
    if not is_root():
        return None
    if shutil.which("runuser") is None:
        raise SystemUserError("running as root needs `runuser` (util-linux) to drop privileges")
    for name in (PREFERRED_USER, CREATED_USER):
        if _exists(name):
            return name
    _create(CREATED_USER)
    return CREATED_USER


def as_user(user: str | None, argv: Sequence[str]) -> list[str]:
    """Return argv prefixed to run as `user` (unchanged when user is None)."""
    if user is None:
        return list(argv)
    return ["runuser", "-u", user, "--", *argv]


def can_write(user: str | None, path: Path) -> bool:
    """Whether `user` can reach and write the directory `path`."""
    return _test(user, "-w", path)


def can_execute(user: str | None, path: Path) -> bool:
    """Whether `user` can reach and execute the file `path`."""
    return _test(user, "-x", path)


def give(user: str | None, path: Path) -> None:
    """Make `path` (not its contents) owned by `user` and private to it."""
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)


def _test(user: str | None, flag: str, path: Path) -> bool:
    if user is None:
        return os.access(path, os.W_OK if flag == "-w" else os.X_OK)
    argv = as_user(user, ["test", flag, str(path)])
    return subprocess.run(argv, cwd="/", check=False).returncode == 0


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _create(name: str) -> None:
    if shutil.which("useradd") is None:
        raise SystemUserError(f"no {PREFERRED_USER!r} user and no `useradd` to create {name!r}")
    argv = ["useradd", "--system", "--user-group", "--no-create-home"]
    argv += ["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    # Another process may have created it at the same moment: only its absence is an error.
    if result.returncode != 0 and not _exists(name):
        raise SystemUserError(f"could not create system user {name!r}: {result.stderr.strip()}")
