"""The store's record of live process groups (table ``process_groups``, schema version 2),
and ending those a dead Render+ left behind.

``StoredGroups`` is the store's ``process_groups.GroupLedger``: a row per group this Render+
started and has not yet seen end (marker, process group, what it runs, and the owner: this
process, by pid, boot id and start time). ``end_left_over`` runs when a Render+ opens the store:
a row whose owner is gone names a group that may still run (a hook that ignored the
parent-death SIGTERM); its processes that carry the marker are killed, and the row is forgotten.
A row whose owner still runs (another Render+ on the same store) is left alone.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import weakref
from dataclasses import dataclass

from .. import process_groups
from ..spawner import boot_id
from .database import BatchStore
from .errors import StoreError
from .records import Owner
from .rows import owner_columns

log = logging.getLogger("renderplus.batch")

@dataclass(frozen=True)
class GroupRecord:
    marker: str
    pgid: int | None          # None: recorded in the instant before it started
    what: str                 # the hook's command or the Blender command line, cut
    started: float
    owner: Owner | None


class StoredGroups:
    """The ledger of ``store`` (held weakly: a store dropped or closed ends the recording)."""

    def __init__(self, store: BatchStore) -> None:
        self._store = weakref.ref(store)
        self._owner = Owner.current()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoredGroups) and other._store() is self._store()

    def __hash__(self) -> int:
        return id(self._store())

    def record(self, marker: str, what: str) -> bool:
        return self._write("INSERT OR REPLACE INTO process_groups VALUES (?, NULL, ?, ?, ?, ?, ?)",
                           (marker, what, time.time(), *owner_columns(self._owner)))

    def placed(self, marker: str, pgid: int) -> bool:
        return self._write("UPDATE process_groups SET pgid = ? WHERE marker = ?", (pgid, marker))

    def forget(self, marker: str) -> bool:
        return self._write("DELETE FROM process_groups WHERE marker = ?", (marker,))

    def _write(self, sql: str, params: tuple[object, ...]) -> bool:
        store = self._store()
        if store is None:
            return False
        try:
            _write(store, sql, params)
        except StoreError as exc:
            if "is closed" in str(exc):
                return False
            log.warning("cannot record a process group: %s", exc)
        return True


def _write(store: BatchStore, sql: str, params: tuple[object, ...]) -> None:
    with store.transaction():
        conn = store._live(store._writer)
        store._guarded(lambda: conn.execute(sql, params))


def recorded(store: BatchStore) -> list[GroupRecord]:
    """Every group the store holds as live, oldest first."""
    def query(conn: sqlite3.Connection) -> list[GroupRecord]:
        return [GroupRecord(row[0], row[1], row[2], row[3],
                            Owner(row[4], row[5], row[6]) if row[4] is not None else None)
                for row in conn.execute(
                    "SELECT marker, pgid, what, started, owner_pid, owner_boot_id, "
                    "owner_start_ticks FROM process_groups ORDER BY started")]
    return store._read(query)


def end_left_over(store: BatchStore) -> list[GroupRecord]:
    """End the groups that a dead Render+ recorded and that still run; forget their records.

    Returns the groups that had live processes. A record of an earlier boot is forgotten (a
    reboot ended it); one whose owner still runs is kept."""
    ended = []
    boot = boot_id()
    for record in recorded(store):
        owner = record.owner
        if owner is not None and owner.boot_id is not None and owner.boot_id != boot:
            _write(store, "DELETE FROM process_groups WHERE marker = ?", (record.marker,))
            continue
        if owner is not None and owner.alive():
            continue
        if process_groups.end_marked(record.marker, record.pgid):
            ended.append(record)
            log.warning("ended a process group left by a dead Render+: %s", record.what)
        _write(store, "DELETE FROM process_groups WHERE marker = ?", (record.marker,))
    return ended
