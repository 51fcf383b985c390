"""One batch slot shared by the HTTP server, the CLI and the add-on.

The server answers requests from many threads and the add-on polls from Blender's main thread;
both go through this object, which holds the loaded recipe and the current (or last) batch
behind a lock, so a recipe cannot be swapped under a running batch and two batches never run.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import process_groups, spawner
from .executors import Executor, JobHandle
from .executors import local as local_executor
from .executors import session as session_executor
from .observers import ObserverFactory
from .options import RunOptions, choose_blender
from .paths import state_dir
from .recipe import Recipe
from .runner import Batch, stored_recipe
from .store import BatchStore, BatchSummary, StoredBatch, StoreError
from .store.groups import GroupRecord, StoredGroups, end_left_over
from .view import BatchStatus, BatchView, JobStatus

log = logging.getLogger("renderplus.batch")


class ServiceError(Exception):
    """A request the batch slot cannot honour now; ``str()`` is a sentence for people."""


class BatchRunningError(ServiceError):
    def __init__(self) -> None:
        super().__init__("A batch is already running; cancel it or wait until it ends")


class NoRecipeError(ServiceError):
    def __init__(self) -> None:
        super().__init__("No recipe submitted yet: POST one to /batch/recipe first")


class NotRunningError(ServiceError):
    def __init__(self) -> None:
        super().__init__("Not running a batch right now")


class NothingToResumeError(ServiceError):
    def __init__(self, why: str = "") -> None:
        super().__init__(why or "Nothing to resume: no batch was interrupted, and the last batch "
                                "has no failed or cancelled job")


def default_work_dir() -> Path:
    """The per-user state folder: uploads, the store and the logs (never /tmp, which a reboot
    empties, and never a folder shared between the users of a machine)."""
    return state_dir()


def open_store(folder: str | os.PathLike[str] | None) -> tuple[BatchStore | None, str | None]:
    """The durable store in ``folder`` (default: the state folder), or None and why not."""
    try:
        return BatchStore.open(Path(folder) if folder else None), None
    except StoreError as exc:
        return None, str(exc)


class BatchService:
    """Holds the recipe and the batch; every method is safe to call from any thread."""

    def __init__(self, options: RunOptions | None = None,
                 work_dir: str | os.PathLike[str] | None = None,
                 store: BatchStore | None = None,
                 executor_factory: Callable[[Recipe], Executor] | None = None,
                 observers: Sequence[ObserverFactory] = ()) -> None:
        """``observers``: passed to every batch this slot runs (the add-on and the CLI give
        ``renderplus.around.watchers_factory()``: the feed, notices and the power action)."""
        self.options = options or RunOptions()  # frozen; each batch keeps the one it started with
        self.work_dir = Path(work_dir) if work_dir else default_work_dir()
        self.store = store
        self.executor_factory = executor_factory  # None: this machine (local or session)
        self.observers = tuple(observers)
        self.farm_status: Callable[[], dict[str, object]] | None = None  # for /test (--farm)
        self._lock = threading.Lock()
        self._recipe: Recipe | None = None
        self._batch: Batch | None = None
        self._waiting: Batch | None = None
        if store is not None:
            self.options = self._with_memory_history(self.options)
            self._recover()

    @property
    def recipe(self) -> Recipe | None:
        return self._recipe

    @property
    def batch(self) -> Batch | None:
        return self._batch

    @property
    def running(self) -> bool:
        batch = self._batch
        return batch is not None and batch.running

    @property
    def shown(self) -> Batch | None:
        """The batch a poll describes: the current or last one, or, once a new recipe is
        loaded and until it starts, that recipe as a WAITING batch (jobs QUEUED/DISABLED)."""
        batch, recipe = self._batch, self._recipe
        if recipe is None or (batch is not None and batch.recipe is recipe):
            return batch
        with self._lock:
            waiting = self._waiting
            if waiting is None or waiting.recipe is not recipe:
                waiting = self._waiting = Batch(recipe, self.options)  # never started
            return waiting

    def view(self) -> BatchView | None:
        """The poll's read model of ``shown``, or None when no recipe was ever loaded."""
        batch = self.shown
        return batch.view() if batch is not None else None

    @property
    def blender_bin(self) -> str:
        """The binary a batch of the loaded recipe would use now."""
        return choose_blender(self._recipe, self.options.blender_bin)

    def set_options(self, options: RunOptions) -> None:
        """Options for batches started from now on; a running batch keeps its own."""
        self.options = self._with_memory_history(options)

    # ---------------------------------------------------------------- the durable store

    def _recover(self) -> None:
        """Show the batch a dead Render+ left RUNNING, as it was, ready to resume; end what
        is left of its Blender processes first (only if each pid is still the recorded one),
        then every process group a dead Render+ recorded that still runs (a hook that ignored
        SIGTERM). From now on this slot's groups are recorded in the store too."""
        assert self.store is not None
        process_groups.keep_records_in(StoredGroups(self.store))
        try:
            interrupted = self.store.interrupted()
        except StoreError as exc:
            log.error("cannot read the batch store: %s", exc)
            return
        batch = None
        if interrupted:
            stored = max(interrupted, key=lambda item: item.created)
            ended = [job.job_id for job in stored.jobs
                     if job.status is JobStatus.RUNNING and job.handle is not None
                     and _end_orphan(job.handle)]
            batch = self._restore(stored)
            if ended:
                batch.report(f"Ended the Blender process(es) of job(s) {ended} left by the dead run")
            self._batch, self._recipe = batch, batch.recipe
        left = _end_left_over_groups(self.store)
        if left and batch is not None:
            batch.report(f"Ended {len(left)} process group(s) left running by the dead run: "
                         + "; ".join(record.what[:80] for record in left))

    def _executor_for(self, recipe: Recipe) -> Executor | None:
        return self.executor_factory(recipe) if self.executor_factory is not None else None

    def _restore(self, stored: StoredBatch) -> Batch:
        """The stored batch as a ``Batch`` this slot can resume (its executor and observers)."""
        recipe = stored_recipe(stored)
        return Batch.restore(stored, self.store, self.options, self._executor_for(recipe),
                             observers=self.observers, recipe=recipe)

    def interrupted_view(self) -> BatchView | None:
        """The interrupted batch found at start, while it waits to be resumed."""
        batch = self._batch
        view = batch.view() if batch is not None else None
        return view if view is not None and view.resumable else None

    def resume(self) -> Batch:
        """Resume the interrupted batch, or re-run the last batch's FAILED and CANCELLED jobs
        (only what is missing renders); raises BatchRunningError or NothingToResumeError."""
        with self._lock:
            if self.running:
                raise BatchRunningError()
            batch = self._batch
            if batch is not None and batch.view().resumable:
                batch.start()
                return batch
            if self.store is None:
                raise NothingToResumeError("Nothing to resume: this server keeps no batch store")
            stored = self._last_stored(batch)
            if stored is None or not any(job.status in (JobStatus.FAILED, JobStatus.CANCELLED)
                                         for job in stored.jobs):
                raise NothingToResumeError()
            again = self._restore(stored)
            self._batch, self._recipe = again, again.recipe
            again.start()
            return again

    def _last_stored(self, batch: Batch | None) -> StoredBatch | None:
        assert self.store is not None
        try:
            if batch is not None and batch.store_id is not None:
                return self.store.load(batch.store_id)
            return self.store.latest()
        except StoreError as exc:
            raise NothingToResumeError(f"Cannot read the batch store: {exc}") from exc

    def history(self, limit: int = 50, offset: int = 0) -> list[BatchSummary]:
        """Past batches, newest first (empty without a store)."""
        return self.store.history(limit, offset) if self.store is not None else []

    def _with_memory_history(self, options: RunOptions) -> RunOptions:
        """Let the memory gate know what each job needed last time (the store's history)."""
        store = self.store
        if store is None or options.memory_needed_mb is not None:
            return options

        def needed(source_file: str, job_name: str) -> float:
            try:
                runs = store.job_history(source_file, job_name, limit=1)
            except StoreError:
                return 0.0
            return float(runs[0].peak_mem_mb or 0.0) if runs else 0.0

        return options.with_changes(memory_needed_mb=needed)

    def load_recipe(self, recipe: Recipe) -> None:
        with self._lock:
            if self.running:
                raise BatchRunningError()
            self._recipe = recipe

    def start(self) -> Batch:
        with self._lock:
            if self.running:
                raise BatchRunningError()
            if self._recipe is None:
                raise NoRecipeError()
            self._drop_interrupted()
            batch = Batch(self._recipe, self.options, self._executor_for(self._recipe), self.store,
                          observers=self.observers)
            self._batch = batch
            batch.start()
            return batch

    def _drop_interrupted(self) -> None:
        """A new batch starts instead of resuming the interrupted one: it stops being offered
        (it stays in the history, CANCELLED)."""
        batch, store = self._batch, self.store
        if batch is None or store is None or not batch.view().resumable:
            return
        stored_id = batch.resumed_id
        if stored_id is not None:
            try:
                store.update_batch(stored_id, status=BatchStatus.CANCELLED, owner=None)
            except StoreError as exc:
                log.error("cannot update the batch store: %s", exc)

    def cancel(self) -> None:
        batch = self._batch
        if batch is None or not batch.cancel():
            raise NotRunningError()

    def cancel_current_job(self) -> None:
        batch = self._batch
        if batch is None or not batch.cancel_current_job():
            raise NotRunningError()

    def cancel_job(self, job_id: int) -> None:
        """Cancel one job (running or queued); NotRunningError when that cannot be done."""
        batch = self._batch
        if batch is None or not batch.cancel_job(job_id):
            raise NotRunningError()

    def snapshot(self) -> dict[str, Any] | None:
        """``view()`` as the poll's dict (docs/api.md, Poll), or None when no recipe was ever loaded."""
        view = self.view()
        return view.to_json() if view is not None else None

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel a running batch (and any pending power-off) and wait for it to end."""
        batch = self._batch
        if batch is not None:
            batch.cancel()
            batch.wait(timeout)


ON_THIS_MACHINE = frozenset({local_executor.NAME, session_executor.NAME})


def _end_orphan(handle: JobHandle) -> bool:
    """End the process group a dead run left on this machine (a process per job, or a Blender
    session), only if its leader is still the recorded process; farm jobs are re-attached."""
    if handle.executor not in ON_THIS_MACHINE:
        return False
    return spawner.end_recorded_group(handle.pid, handle.pgid, handle.boot_id, handle.start_ticks,
                                      handle.argv)


def _end_left_over_groups(store: BatchStore) -> list[GroupRecord]:
    """The groups a dead Render+ recorded and left running (hooks that ignore SIGTERM, a
    Blender whose leader died), ended; their records forgotten."""
    try:
        return end_left_over(store)
    except StoreError as exc:
        log.error("cannot read the process groups in the batch store: %s", exc)
        return []
