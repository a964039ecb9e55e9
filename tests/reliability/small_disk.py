"""A database on a small tmpfs (mounted for the test, as root) that a filler file can make full."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from deploy.local import sysuser

TABLESPACE = "small_disk"


@contextmanager
def small_disk(size_mib: int) -> Iterator[Path]:
    """Mount a tmpfs of `size_mib` and yield a directory on it the PostgreSQL user owns."""
    mount_point = Path(tempfile.mkdtemp(prefix="llmobs-small-disk-"))
    mount_point.chmod(0o755)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=755", "tmpfs", str(mount_point)],
        check=True,
    )
    try:
        location = mount_point / "tablespace"
        location.mkdir()
        sysuser.give(sysuser.server_user(), location)
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=False)
        shutil.rmtree(mount_point, ignore_errors=True)


@contextmanager
def database_on(server_url: str, database_url: str, mount_point: Path) -> Iterator[None]:
    """Move the (unused) database to a tablespace on the small disk; drop both afterwards."""
    database = sql.Identifier(database_url.rsplit("/", 1)[1])
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(
                sql.Identifier(TABLESPACE), sql.Literal(str(mount_point / "tablespace"))
            )
        )
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET TABLESPACE {}").format(
                database, sql.Identifier(TABLESPACE)
            )
        )
    try:
        yield
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
            conn.execute(sql.SQL("DROP TABLESPACE IF EXISTS {}").format(sql.Identifier(TABLESPACE)))


def fill(mount_point: Path) -> Path:
    """Write a file until the disk is full; return it (delete it to free the space)."""
    filler = mount_point / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 4096, 1):  # what a large block cannot take, smaller ones can
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(descriptor)
    return filler


def free_bytes(mount_point: Path) -> int:
    """Bytes still free on the small disk."""
    stats = os.statvfs(mount_point)
    return stats.f_bavail * stats.f_frsize
