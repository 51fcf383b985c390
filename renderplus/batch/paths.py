"""The per-user folders Render+ keeps its own files in."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from .spawner import pid_exists

TEMP_PREFIX = "renderplus-"


def state_dir() -> Path:
    """``$XDG_STATE_HOME/renderplus`` (default ``~/.local/state/renderplus``): local, per user."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "renderplus"


TEMP_VARS = ("TMPDIR", "TEMP", "TMP")  # where a child looks for its temp folder


def job_temp_dir(job_id: int, kind: str = "") -> str:
    """A new temp folder for one job (``kind``: "session" for a Blender session's), named after
    this process so a later run can tell a leftover of a dead run (``remove_stale_temp_dirs``)."""
    return tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-job{job_id}-{kind + '-' if kind else ''}")


def remove_stale_temp_dirs(root: str | None = None) -> int:
    """Remove this user's job temp folders whose Render+ process is gone; how many."""
    root = root or tempfile.gettempdir()
    removed = 0
    try:
        entries = list(os.scandir(root))
    except OSError:
        return 0
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in entries:
        name = entry.name
        if not name.startswith(TEMP_PREFIX) or "-job" not in name:
            continue
        owner = name[len(TEMP_PREFIX):].split("-", 1)[0]
        if not owner.isdigit() or pid_exists(int(owner)):
            continue
        with contextlib.suppress(OSError):
            if not entry.is_dir(follow_symlinks=False):
                continue
            if uid is not None and entry.stat(follow_symlinks=False).st_uid != uid:
                continue
            shutil.rmtree(entry.path)
            removed += 1
    return removed
