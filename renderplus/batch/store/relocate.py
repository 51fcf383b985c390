"""Moving a store to another folder once: the add-on kept its store in Blender's user folder,
while the server and the CLI use the one per-user state folder; one folder for everyone means
``--history`` and ``--resume`` in a terminal see the panel's batches, and a batch handed from
Blender to a server is found in the one store.

The move is safe or not done: the old store is moved only while no process has it open (an
exclusive SQLite lock taken without waiting), after its write-ahead log was folded into the
file, and never over a store that exists in the new folder already. What it holds beside it
(the secrets of queued and paused batches) moves with it.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..secrets import SECRETS_FOLDER
from .database import STORE_FILE

_COMPANIONS = ("-wal", "-shm", "-journal")  # SQLite's own files beside the store


@dataclass(frozen=True)
class Relocation:
    """What ``move_store`` did: ``moved`` True when the store is in the new folder now;
    ``sentence`` says what happened, or why the old store was left (empty: nothing to move)."""

    moved: bool
    sentence: str = ""


def move_store(old: Path, new: Path) -> Relocation:
    """Move ``old/renderplus.db`` (and its secrets) into ``new`` when ``new`` holds no store."""
    source = old / STORE_FILE
    if not source.is_file():
        return Relocation(False)
    target = new / STORE_FILE
    if target.exists():
        return Relocation(False, f"An older Render+ store was left in {old}: the batches in it are "
                                 f"not shown (the store in use is {target})")
    problem = _quiesce(source)
    if problem:
        return Relocation(False, f"The Render+ store in {old} was not moved to {new} this time: "
                                 f"{problem}")
    try:
        new.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.move(str(source), str(target))
        for suffix in _COMPANIONS:
            companion = source.with_name(STORE_FILE + suffix)
            if companion.exists():
                shutil.move(str(companion), str(target.with_name(STORE_FILE + suffix)))
        secrets = old / SECRETS_FOLDER
        if secrets.is_dir() and not (new / SECRETS_FOLDER).exists():
            shutil.move(str(secrets), str(new / SECRETS_FOLDER))
    except OSError as exc:
        return Relocation(target.exists(), f"Moving the Render+ store from {old} to {new} failed: "
                                           f"{exc.strerror or exc}")
    with contextlib.suppress(OSError):
        (old / "MOVED.txt").write_text(f"Render+ keeps its batches in {new} now.\n", encoding="utf-8")
    return Relocation(True, f"Render+ moved its batch store from {old} to {new}")


def _quiesce(path: Path) -> str:
    """Fold the write-ahead log into the store while holding it exclusively; why not ("" done)."""
    try:
        conn = sqlite3.connect(str(path), timeout=0, isolation_level=None)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # Leaving WAL is refused while another connection has the store open; it also removes
        # the log files, so the one file holds everything (the next open turns WAL on again).
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()
        if mode is None or str(mode[0]).lower() != "delete":
            return "another process has it open"
    except sqlite3.OperationalError as exc:
        return "another process has it open" if "lock" in str(exc).lower() else str(exc)
    finally:
        conn.close()
    return "" if path.is_file() else "it is gone"
