"""The durable queue of batches behind the current one (docs/engine-api.md, The queue).

``BatchQueue`` keeps queued recipes in the store's ``queued_batches`` table (``store.queue_table``:
positions 0..n-1, changed in one transaction each) and whether the queue is held; without a
store the same tables live in memory, for as long as the process. A queued recipe is stored as
every recipe is, redacted; its secrets wait in a file beside the store (``secrets``) until its
batch ends. ``take_next`` hands the first queued batch out with its recipe whole again; the
stored batch it becomes is linked to it in the transaction that records that batch (``link``),
so a kill at any moment of the hand-over loses nothing (``recover``).

Who runs the queue (one live process, the ``QUEUE`` claim) and when the next batch starts is
``queue_runner``'s; this module only keeps the list.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from .recipe import Recipe, RecipeError, parse_recipe
from .secrets import SecretFiles, queued_name
from .store import BatchStore, StoreError
from .store import queue_table as table
from .store.schema import MIGRATIONS

log = logging.getLogger("renderplus.batch")
_T = TypeVar("_T")
QUEUE_TABLES = 4   # the schema version that adds the queue's tables


@dataclass(frozen=True)
class QueueEntry:
    """One queued batch (``position`` 0 = next), with its estimated start and end (None when
    nothing similar ever ran)."""

    id: int
    name: str
    jobs: int
    position: int
    added: float
    estimated_start: float | None = None
    estimated_end: float | None = None
    estimate_runs: int | None = None  # the fewest similar earlier runs behind its jobs' estimates

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "jobs": self.jobs, "position": self.position,
                "added": self.added, "estimated_start": self.estimated_start,
                "estimated_end": self.estimated_end, "estimate_runs": self.estimate_runs}


@dataclass(frozen=True)
class QueueView:
    """The queue now: its batches in order, and whether it is held."""

    entries: tuple[QueueEntry, ...]
    held: bool
    estimated_end: float | None = None  # when the current batch and every queued one are done

    def to_json(self) -> dict[str, Any]:
        return {"held": self.held, "batches": [entry.to_json() for entry in self.entries],
                "estimated_end": self.estimated_end}


@dataclass(frozen=True)
class Handover:
    """The first queued batch, taken out of the queue to start: its recipe whole, and sentences
    for the batch's messages (secrets that were lost)."""

    entry: QueueEntry
    recipe: Recipe
    notes: tuple[str, ...] = ()


class NotQueued(Exception):
    """No queued batch ``queue_id``: unknown, or ``started`` (it is, or was, a current batch)."""

    def __init__(self, queue_id: int, started: bool) -> None:
        super().__init__(f"queued batch {queue_id} {'started' if started else 'unknown'}")
        self.queue_id = queue_id
        self.started = started


class _MemoryTables:
    """The queue's tables in an in-memory database, for a service without a store."""

    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        for statement in MIGRATIONS[QUEUE_TABLES]:
            self._conn.execute(statement)

    def write(self, action: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                result = action(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return result

    def read(self, query: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            return query(self._conn)


class BatchQueue:
    """The queued batches, in the store (or in memory); every method is safe from any thread
    and raises ``StoreError`` when the store cannot do it."""

    def __init__(self, store: BatchStore | None) -> None:
        self.store = store
        self._tables: BatchStore | _MemoryTables = store if store is not None else _MemoryTables()
        self.secrets = SecretFiles.beside(store.path) if store is not None else None
        self._recipes: dict[int, Recipe] = {}    # without a store: the recipes themselves

    # ---------------------------------------------------------------- reading

    def view(self) -> QueueView:
        def query(conn: sqlite3.Connection) -> QueueView:
            return QueueView(tuple(_entry(r) for r in table.queued(conn)), table.held(conn))
        return self._tables.read(query)

    def recipe_of(self, queue_id: int) -> Recipe | None:
        """A queued batch's recipe as stored (secrets left out: enough to estimate it); None
        when it is not queued or no longer reads."""
        kept = self._recipes.get(queue_id)
        if kept is not None:
            return kept
        try:
            row = self._tables.read(lambda conn: table.row(conn, queue_id))
            if row is None:
                return None
            return parse_recipe(row.recipe_json, base_dir=row.base_dir or None)
        except (StoreError, RecipeError):
            return None

    @property
    def held(self) -> bool:
        return self._tables.read(table.held)

    def empty(self) -> bool:
        return not self._tables.read(table.queued)

    def started_as(self, store_id: int) -> int | None:
        """The queue id of the queued batch that became the stored batch ``store_id``."""
        found = self._tables.read(lambda conn: table.started_as(conn, store_id))
        return found.id if found is not None else None

    # ---------------------------------------------------------------- changing

    def add(self, recipe: Recipe) -> QueueEntry:
        """Queue ``recipe`` last; its secrets go to their file (a failure is logged: the batch
        says so when it starts)."""
        row = self._tables.write(lambda conn: table.add(
            conn, recipe.name, recipe.to_json(redact=True), recipe.base_dir or "",
            len(recipe.enabled_jobs)))   # the jobs it will render
        if self.secrets is None:
            self._recipes[row.id] = recipe
        else:
            problem = self.secrets.keep(queued_name(row.id), recipe)
            if problem:
                log.error("%s", problem)
        return _entry(row)

    def move(self, queue_id: int, position: int) -> QueueView:
        """Put a queued batch at ``position`` (0 = next, past the end = last); ``NotQueued``."""
        if position < 0:
            raise ValueError(f"a queue position is 0 or more, not {position}")
        if not self._tables.write(lambda conn: table.move(conn, queue_id, position)):
            raise self._not_queued(queue_id)
        return self.view()

    def drop(self, queue_id: int) -> None:
        """Remove a queued batch (and its secrets); ``NotQueued`` when it is not queued."""
        found = self._tables.write(lambda conn: table.drop(conn, queue_id))
        if found is None or not found.queued:
            raise NotQueued(queue_id, started=found is not None)
        self.forget(queue_id)

    def hold(self, held: bool) -> QueueView:
        self._tables.write(lambda conn: table.set_held(conn, held))
        return self.view()

    def take_next(self) -> Handover | None:
        """Take the first queued batch out of the queue (one transaction), with its recipe;
        None when the queue is empty. A recipe that no longer reads is left out (logged)."""
        while True:
            row = self._tables.write(table.take_next)
            if row is None:
                return None
            try:
                return self._handover(row)
            except RecipeError as exc:
                log.error("queued batch %s (%r) cannot be read back, left out: %s",
                          row.id, row.name, exc)
                self._tables.write(partial(table.drop, queue_id=row.id))

    def link(self, queue_id: int) -> Callable[[BatchStore, int], None]:
        """What the started batch's ``StoreWriter`` runs inside the transaction that records it."""
        def record(store: BatchStore, batch_id: int) -> None:
            store.write(lambda conn: table.link(conn, queue_id, batch_id))
        return record

    def forget(self, queue_id: int) -> None:
        """A batch from the queue ended (or was dropped): its secrets go."""
        self._recipes.pop(queue_id, None)
        if self.secrets is not None:
            self.secrets.remove(queued_name(queue_id))

    def restore_secrets(self, queue_id: int, recipe: Recipe) -> str | None:
        """Put a started queued batch's secrets back into its stored recipe (a resume)."""
        return self.secrets.restore(queued_name(queue_id), recipe) if self.secrets else None

    def recover(self) -> list[int]:
        """Put back what a killed owner had taken out of the queue and not started."""
        if self.store is None:
            return []
        return self._tables.write(table.recover)

    # ---------------------------------------------------------------- plumbing

    def _handover(self, row: table.QueuedRow) -> Handover:
        kept = self._recipes.get(row.id)
        if kept is not None:
            return Handover(_entry(row, 0), kept)
        recipe = parse_recipe(row.recipe_json, base_dir=row.base_dir or None)
        problem = self.restore_secrets(row.id, recipe)
        return Handover(_entry(row, 0), recipe, (problem,) if problem else ())

    def _not_queued(self, queue_id: int) -> NotQueued:
        try:
            found = self._tables.read(lambda conn: table.row(conn, queue_id))
        except StoreError:
            found = None
        return NotQueued(queue_id, started=found is not None)


def _entry(row: table.QueuedRow, position: int | None = None) -> QueueEntry:
    where = position if position is not None else row.position
    return QueueEntry(row.id, row.name, row.jobs, where if where is not None else 0, row.added)
