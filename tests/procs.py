"""Live processes from Linux /proc, for tests that prove nothing was left running."""

from __future__ import annotations

import os
from collections.abc import Iterator


def live_processes() -> Iterator[tuple[int, list[str]]]:
    """(pid, the fields of /proc/PID/stat after the command name) for each non-zombie process."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            yield int(entry), fields


def process_state(pid: int) -> str | None:
    """The state letter of process ``pid`` (R, S, Z...), or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def is_alive(pid: int) -> bool:
    """Process ``pid`` exists and is not a zombie (a zombie is dead for a test's purpose)."""
    return process_state(pid) not in (None, "Z")


def pids_in_group(pgid: int) -> list[int]:
    """Live processes whose process group is ``pgid``."""
    return [pid for pid, fields in live_processes() if int(fields[2]) == pgid]


def cpu_seconds(pids: list[int]) -> float:
    """The processor time (user and system) these processes have used so far: a sign that a
    program is working, where wall-clock time on a loaded machine says nothing."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid, fields in live_processes():
        if pid in pids:
            total += int(fields[11]) + int(fields[12])  # utime, stime (stat fields 14 and 15)
    return total / ticks


def processes_with(text: str) -> list[int]:
    """Live processes (not this one) whose command line contains ``text``."""
    found = []
    for pid, _ in live_processes():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmdline and pid != os.getpid():
            found.append(pid)
    return found
