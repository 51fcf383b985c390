"""The queue of batches as rows (table ``queued_batches``, schema version 4), one step per call.

Each function runs on a connection already inside one transaction (``BatchStore.write``), so a
move, a drop or taking the next batch renumbers every position at once: positions are always
0..n-1 (0 = next), whatever a kill interrupts. A row leaves the queue in two steps: ``take_next``
clears its position (the batch is being started), then ``link`` records the stored batch it
became, in the same transaction that creates that batch's record (``StoreWriter.on_create``).
A kill between the two leaves a row with neither, which ``recover`` puts back at the front;
a batch recorded but never RUNNING (killed before its first state change) goes back too.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any

KEEP_STARTED = 100   # rows of queued batches that started, kept to answer "it started" (DELETE)
_COLUMNS = "id, name, recipe_json, base_dir, jobs, position, added, batch_id"


@dataclass(frozen=True)
class QueuedRow:
    """One row: a queued batch (``position`` set), one being started (neither ``position`` nor
    ``batch_id``), or one that started (``batch_id``: the stored batch it became)."""

    id: int
    name: str
    recipe_json: str
    base_dir: str
    jobs: int
    position: int | None
    added: float
    batch_id: int | None

    @property
    def queued(self) -> bool:
        return self.position is not None


def queued(conn: sqlite3.Connection) -> list[QueuedRow]:
    """The queued batches, next first."""
    return [_row(r) for r in conn.execute(
        f"SELECT {_COLUMNS} FROM queued_batches WHERE position IS NOT NULL ORDER BY position")]


def row(conn: sqlite3.Connection, queue_id: int) -> QueuedRow | None:
    found = conn.execute(f"SELECT {_COLUMNS} FROM queued_batches WHERE id = ?",
                         (queue_id,)).fetchone()
    return _row(found) if found is not None else None


def started_as(conn: sqlite3.Connection, batch_id: int) -> QueuedRow | None:
    """The queued batch that became the stored batch ``batch_id``, if one did."""
    found = conn.execute(f"SELECT {_COLUMNS} FROM queued_batches WHERE batch_id = ?",
                         (batch_id,)).fetchone()
    return _row(found) if found is not None else None


def add(conn: sqlite3.Connection, name: str, recipe_json: str, base_dir: str,
        jobs: int) -> QueuedRow:
    """Append a batch at the end of the queue."""
    count = conn.execute("SELECT count(*) FROM queued_batches WHERE position IS NOT NULL"
                         ).fetchone()[0]
    cursor = conn.execute(
        "INSERT INTO queued_batches (name, recipe_json, base_dir, jobs, position, added) "
        "VALUES (?, ?, ?, ?, ?, ?)", (name, recipe_json, base_dir, jobs, count, time.time()))
    added = row(conn, int(cursor.lastrowid or 0))
    assert added is not None
    return added


def move(conn: sqlite3.Connection, queue_id: int, position: int) -> bool:
    """Put a queued batch at ``position`` (past the end: last); False when it is not queued."""
    ids = [r.id for r in queued(conn)]
    if queue_id not in ids:
        return False
    ids.remove(queue_id)
    ids.insert(min(max(position, 0), len(ids)), queue_id)
    _number(conn, ids)
    return True


def drop(conn: sqlite3.Connection, queue_id: int) -> QueuedRow | None:
    """Remove a queued batch; the row as it was (None when unknown). A row that is no longer
    queued (it started) is left as it is and returned: the caller refuses."""
    found = row(conn, queue_id)
    if found is None or not found.queued:
        return found
    conn.execute("DELETE FROM queued_batches WHERE id = ?", (queue_id,))
    _number(conn, [r.id for r in queued(conn)])
    return found


def take_next(conn: sqlite3.Connection) -> QueuedRow | None:
    """Take the first queued batch out of the queue to start it (None: the queue is empty)."""
    rows = queued(conn)
    if not rows:
        return None
    first = rows[0]
    conn.execute("UPDATE queued_batches SET position = NULL WHERE id = ?", (first.id,))
    _number(conn, [r.id for r in rows[1:]])
    conn.execute("DELETE FROM queued_batches WHERE position IS NULL AND batch_id IS NOT NULL "
                 "AND id NOT IN (SELECT id FROM queued_batches WHERE batch_id IS NOT NULL "
                 "ORDER BY id DESC LIMIT ?)", (KEEP_STARTED,))
    return first


def link(conn: sqlite3.Connection, queue_id: int, batch_id: int) -> None:
    """The batch taken out of the queue now has a stored record (the same transaction)."""
    conn.execute("UPDATE queued_batches SET batch_id = ? WHERE id = ?", (batch_id, queue_id))


def recover(conn: sqlite3.Connection) -> list[int]:
    """Put back at the front, in their order, the batches a killed owner had taken out of the
    queue but not started: no record yet, or a record still WAITING and not for a start time
    (it never ran; it is removed; one waiting for its ``start_at`` is the current batch, which
    the service starts again). Returns their queue ids."""
    back: list[int] = []
    for found in [_row(r) for r in conn.execute(
            f"SELECT {_COLUMNS} FROM queued_batches WHERE position IS NULL ORDER BY id")]:
        if found.batch_id is not None:
            status = conn.execute("SELECT status, start_at FROM batches WHERE id = ?",
                                  (found.batch_id,)).fetchone()
            if status is not None and (status[0] != "WAITING" or status[1] is not None):
                continue   # it ran, or waits for its start: the store shows it
            conn.execute("DELETE FROM batches WHERE id = ?", (found.batch_id,))
            conn.execute("DELETE FROM claims WHERE subject = ?", (f"batch:{found.batch_id}",))
            conn.execute("UPDATE queued_batches SET batch_id = NULL WHERE id = ?", (found.id,))
        back.append(found.id)
    if back:
        _number(conn, back + [r.id for r in queued(conn)])
    return back


def held(conn: sqlite3.Connection) -> bool:
    found = conn.execute("SELECT held FROM queue_state WHERE id = 1").fetchone()
    return bool(found[0]) if found is not None else False


def set_held(conn: sqlite3.Connection, value: bool) -> None:
    conn.execute("INSERT OR REPLACE INTO queue_state (id, held) VALUES (1, ?)", (int(value),))


def _number(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Positions 0..n-1 in the order of ``ids`` (only the rows whose position changes)."""
    current = dict(conn.execute("SELECT id, position FROM queued_batches").fetchall())
    conn.executemany("UPDATE queued_batches SET position = ? WHERE id = ?",
                     [(index, queue_id) for index, queue_id in enumerate(ids)
                      if current.get(queue_id) != index])


def _row(values: tuple[Any, ...]) -> QueuedRow:
    queue_id, name, recipe_json, base_dir, jobs, position, added, batch_id = values
    return QueuedRow(int(queue_id), str(name), str(recipe_json), str(base_dir), int(jobs),
                     int(position) if position is not None else None, float(added),
                     int(batch_id) if batch_id is not None else None)
