"""CPU time and peak memory of a process and its children, read from /proc."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcessUsage:
    """CPU seconds (user + system) and peak resident memory of one process."""

    cpu_seconds: float
    peak_rss_mb: float


def usage(pid: int) -> ProcessUsage:
    """Read /proc/<pid>/stat and /proc/<pid>/status (VmHWM is the peak resident set)."""
    fields = _stat_fields(pid)
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS
    peak_kb = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak_kb = int(line.split()[1])
    return ProcessUsage(cpu, peak_kb / 1024)


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process, its reaped children and its live children (a server that forks
    a process per connection, such as PostgreSQL); differences over an interval are its cost."""
    fields = _stat_fields(pid)
    total = sum(int(value) for value in fields[11:15])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = _stat_fields(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited while we read
        if child[1] == str(pid):
            total += sum(int(value) for value in child[11:15])
    return total / _TICKS


def pid_from_file(path: Path) -> int:
    """The process id on the first line of a pid file (postmaster.pid, redis.pid)."""
    return int(path.read_text().split()[0])
