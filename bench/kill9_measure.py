"""What the kill -9 harness (bench/kill9.py) counts, read from outside Render+.

- the frames the store recorded: the ``frames`` table of ``renderplus.db`` under ``--work-dir``
  (path, size, mtime_ns, inode), read with SQLite directly, so a changed store API does not
  change what is measured;
- the files themselves: their identity (size, mtime_ns, inode) and whether a PNG is complete;
- the ``Saved: '...'`` lines Blender printed, from the servers' batch logs (``--write-log``);
- the processes a server started: every one carries ``MARK_VAR`` in its environment
  (``/proc/PID/environ``), inherited from the server by Blender and by the hooks.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from bench.kill9_server import MARK_VAR

Stamp = tuple[int, int, int]          # size, mtime_ns, inode
STORE_FILE = "renderplus.db"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"
SAVED = re.compile(r"Saved: '([^']+)'")


def recorded_frames(work_dir: Path) -> dict[str, Stamp]:
    """Every frame file the store under ``work_dir`` recorded, with its recorded identity.

    Read only; while a server writes, a read in WAL mode sees the last commit. A store that
    cannot be read at this instant (being created) reads as nothing recorded yet."""
    path = work_dir / STORE_FILE
    if not path.exists():
        return {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute("SELECT path, size, mtime_ns, inode FROM frames").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:   # no frames table yet, or the file is still being made
        return {}
    return {str(p): (int(size), int(mtime), int(inode)) for p, size, mtime, inode in rows}


def file_stamp(path: str | Path) -> Stamp | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ino


def complete_png(path: Path) -> bool:
    """A PNG that starts with the signature and ends with its IEND chunk (not cut short)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(PNG_SIGNATURE))
            handle.seek(0, os.SEEK_END)
            if handle.tell() < len(PNG_SIGNATURE) + len(PNG_END):
                return False
            handle.seek(-len(PNG_END), os.SEEK_END)
            tail = handle.read()
    except OSError:
        return False
    return head == PNG_SIGNATURE and tail == PNG_END


def lost_frames(expected: Iterable[Path]) -> list[Path]:
    """The expected frames that are missing or not a complete image at the end."""
    return [path for path in expected if not complete_png(path)]


def rendered_again(recorded: dict[str, Stamp]) -> list[str]:
    """Recorded frames whose file is no longer the one recorded (rewritten, or gone)."""
    return sorted(path for path, stamp in recorded.items() if file_stamp(path) != stamp)


def saved_counts(log_dir: Path) -> Counter[str]:
    """How often Blender printed ``Saved: 'PATH'`` for each path in one server's batch logs."""
    counts: Counter[str] = Counter()
    for log in sorted(log_dir.glob("renderplus_*")):
        with contextlib.suppress(OSError):
            counts.update(SAVED.findall(log.read_text(errors="replace")))
    return counts


def marked_processes(accept: Callable[[str], bool]) -> dict[int, str]:
    """Live processes (not zombies, not this one) whose ``MARK_VAR`` value ``accept`` takes."""
    found: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            mark = mark_of(int(entry))
            if mark is not None and accept(mark):
                found[int(entry)] = mark
    return found


def mark_of(pid: int) -> str | None:
    """The ``MARK_VAR`` value process ``pid`` was started with; None when it has none, is a
    zombie or is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            if handle.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                return None
        with open(f"/proc/{pid}/environ", "rb") as handle:
            environ = handle.read().split(b"\0")
    except (OSError, IndexError):
        return None
    prefix = f"{MARK_VAR}=".encode()
    for item in environ:
        if item.startswith(prefix):
            return item[len(prefix):].decode("utf-8", "replace")
    return None


def describe(pid: int) -> str:
    """``PID command line`` on one line for the report (``?`` when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            text = " ".join(handle.read().replace(b"\0", b" ").decode("utf-8", "replace").split())
    except OSError:
        text = ""
    return f"{pid} {text[:120] or '?'}"


def left_running(accept: Callable[[str], bool], grace: float) -> dict[int, str]:
    """The marked processes still alive after ``grace`` seconds (each given its chance to end),
    described; then killed, each by its id, so that one round's leftovers never count twice."""
    deadline = time.monotonic() + grace
    left = marked_processes(accept)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = marked_processes(accept)
    described = {}
    for pid, mark in left.items():
        text = describe(pid)
        if mark_of(pid) != mark:
            continue   # it ended between the scan and now (its id may be another's already)
        described[pid] = f"{text} [{mark}]"
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return described
