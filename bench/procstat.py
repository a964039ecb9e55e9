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
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS
    peak_kb = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak_kb = int(line.split()[1])
    return ProcessUsage(cpu, peak_kb / 1024)
