"""Opening the store's SQLite file: readable by its user only, in write-ahead-log mode.

A store holds hook output and file paths, so it is made 0600 before SQLite first opens it (its
``-wal`` and ``-shm`` files follow the database's mode) wherever it lies, ``--work-dir`` too.
WAL is required: readers (polls) never wait for the batch's writer, and a kill leaves the last
committed state; a folder whose file system cannot give it (some network mounts) is refused
with a sentence rather than run slowly or unsafely.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from pathlib import Path

from .errors import StoreError


def private_files(path: Path) -> None:
    """The store readable by its user only, in any folder (``--work-dir`` too, not just the
    0700 state folder): created 0600 before SQLite opens it (SQLite gives its ``-wal`` and
    ``-shm`` files the database's mode), and a store of ours left 0644 by an earlier version
    made 0600 with them."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600))
    uid = getattr(os, "geteuid", lambda: None)()
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            info = os.lstat(name)
            ours = uid is None or info.st_uid == uid
            if info.st_mode & 0o077 and ours and not stat.S_ISLNK(info.st_mode):
                os.chmod(name, 0o600)


def connect(path: Path, synchronous: str, busy_timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None,
                           check_same_thread=False)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"The Render+ store {path} cannot use a write-ahead log (SQLite "
                             f"chose {mode!r}); give Render+ a folder on a local disk.")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA journal_size_limit = 4194304")   # keep the log file itself small
    except BaseException:
        conn.close()
        raise
    return conn
