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


def pids_in_group(pgid: int) -> list[int]:
    """Live processes whose process group is ``pgid``."""
    return [pid for pid, fields in live_processes() if int(fields[2]) == pgid]


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
