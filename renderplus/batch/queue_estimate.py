"""When each queued batch will start and end, and when the whole queue will be done.

The queue's batches run one after the other behind the current batch: the first starts when
the current one's ETA runs out (now, when nothing runs), each next one when the one before it
ends. A batch's length is its jobs' estimates from the history (``estimate``) spread over its
slots; a batch with a job nothing similar ever ran has no length, and the batches behind it no
start. A held queue starts nothing by itself: it has no estimates. ``fit`` places a batch's
rendering in time (its ``start_at`` and ``window`` move its start and end).

The history changes only when a run is recorded, so each queued batch's length is cached by
its queue id and the newest recorded run (for a minute at most: a running one's frames count).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sqlite3
from collections.abc import Callable

from .estimate import estimate_recipe
from .queue import QueueEntry, QueueView
from .recipe import Recipe
from .schedule import ScheduleError, parse_start_at, work_ends
from .slots import slot_count
from .store import BatchStore, StoreError
from .view import BatchView

log = logging.getLogger("renderplus.batch")

Fit = Callable[[Recipe, float, float], tuple[float, float]]   # (start, end) of its rendering


def scheduled(recipe: Recipe, earliest: float, seconds: float) -> tuple[float, float]:
    """A batch starts as soon as it can, not before its ``start_at`` nor outside its
    ``window``, and renders only inside the window (``schedule.work_ends``)."""
    start = earliest
    if recipe.start_at is not None:
        with contextlib.suppress(ScheduleError):
            start = max(start, parse_start_at(recipe.start_at, earliest))
    window = recipe.settings.window
    if window is not None and not window.contains(start):
        start = window.next_start(start)
    return start, work_ends(start, seconds, window)


def current_left(view: BatchView | None, now: float) -> float | None:
    """Seconds until the current batch is done: 0 when none runs (or it ended); None when
    unknown (its ETA, or it was paused by hand and waits for a person)."""
    if view is None or view.status.ended:
        return 0.0
    if view.eta is None or (view.paused and view.continues_at is None):
        return None
    waits = view.starts_at if view.starts_at is not None else view.continues_at
    return max(0.0, (waits or now) - now) + view.eta


@dataclasses.dataclass(frozen=True)
class BatchLength:
    seconds: float | None
    runs: int | None   # the fewest similar runs behind one of its jobs


def batch_length(recipe: Recipe, store: BatchStore | None) -> BatchLength:
    """A recipe's rendering time from the history, its jobs spread over its slots."""
    estimates = estimate_recipe(recipe, store)
    if not estimates:
        return BatchLength(0.0, None)
    if any(estimate is None for estimate in estimates.values()):
        return BatchLength(None, None)
    known = [estimate for estimate in estimates.values() if estimate is not None]
    slots = slot_count(recipe, gpu_count=0)
    return BatchLength(round(sum(e.seconds for e in known) / max(1, slots), 1),
                       min(e.runs for e in known))


class QueueEstimator:
    """Fills a ``QueueView`` with estimated starts and ends (any thread)."""

    def __init__(self, store: BatchStore | None, recipe_of: Callable[[int], Recipe | None],
                 fit: Fit = scheduled) -> None:
        self.store = store
        self.recipe_of = recipe_of
        self.fit = fit
        self._lengths: dict[int, tuple[tuple[int, int], BatchLength]] = {}
        self._recipes: dict[int, Recipe | None] = {}

    def estimated(self, view: QueueView, now: float, current_left: float | None) -> QueueView:
        """``view`` with its estimates; ``current_left``: seconds the current batch still
        renders (0 when none runs; None when unknown: then nothing behind it is known)."""
        if view.held:
            return view
        size = self._history_size(now)
        start: float | None = None if current_left is None else now + current_left
        entries = []
        for entry in view.entries:
            length = self._length(entry, size)
            recipe = self._recipe(entry.id)
            if start is None or length.seconds is None or recipe is None:
                entries.append(dataclasses.replace(entry, estimate_runs=length.runs))
                start = None
                continue
            begins, ends = self.fit(recipe, start, length.seconds)
            entries.append(dataclasses.replace(entry, estimated_start=round(begins, 1),
                                               estimated_end=round(ends, 1),
                                               estimate_runs=length.runs))
            start = ends
        end = start if view.entries else (now + current_left if current_left else None)
        ids = {entry.id for entry in view.entries}
        self._lengths = {i: kept for i, kept in self._lengths.items() if i in ids}
        self._recipes = {i: kept for i, kept in self._recipes.items() if i in ids}
        return dataclasses.replace(view, entries=tuple(entries),
                                   estimated_end=round(end, 1) if end is not None else None)

    def _length(self, entry: QueueEntry, size: tuple[int, int]) -> BatchLength:
        cached = self._lengths.get(entry.id)
        if cached is not None and cached[0] == size:
            return cached[1]
        recipe = self._recipe(entry.id)
        length = batch_length(recipe, self.store) if recipe is not None else BatchLength(None, None)
        self._lengths[entry.id] = (size, length)
        return length

    def _recipe(self, queue_id: int) -> Recipe | None:
        if queue_id not in self._recipes:
            self._recipes[queue_id] = self.recipe_of(queue_id)
        return self._recipes[queue_id]

    def _history_size(self, now: float) -> tuple[int, int]:
        return history_mark(self.store, now)


def history_mark(store: BatchStore | None, now: float) -> tuple[int, int]:
    """The newest recorded run, and the minute: an estimate is computed again after either
    moves (a run in progress refines its frames' times)."""
    if store is None:
        return 0, 0
    try:
        return store.read(_newest_run), int(now // 60)
    except StoreError as exc:
        log.warning("cannot read the render time history: %s", exc)
        return -1, int(now // 60)


def _newest_run(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT max(rowid) FROM job_runs").fetchone()
    return int(row[0] or 0)
