"""One batch slot shared by the HTTP server, the CLI and the add-on.

The server answers requests from many threads and the add-on polls from Blender's main thread;
both go through this object, which holds the loaded recipe and the current (or last) batch
behind a lock, so a recipe cannot be swapped under a running batch and two batches never run.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from . import ownership, process_groups, recovery
from .executors import Executor
from .observers import ObserverFactory
from .options import RunOptions, choose_blender
from .paths import state_dir
from .recipe import Recipe
from .resume import resumable
from .runner import Batch, EditRefused, NoSuchJob, stored_recipe
from .store import BatchStore, BatchSummary, StoredBatch, StoreError
from .store.claims import Claimant, ClaimRefused
from .store.groups import StoredGroups
from .view import BatchStatus, BatchView

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


class BatchOwnedError(ServiceError):
    """Another live Render+ owns the batch (docs/api.md, Errors): ``claim`` says which process
    and since when."""

    def __init__(self, refused: ClaimRefused) -> None:
        super().__init__(str(refused))
        self.claim = refused.claim


class NothingToResumeError(ServiceError):
    def __init__(self, why: str = "") -> None:
        super().__init__(why or "Nothing to resume: no batch was interrupted, and the last batch "
                                "has no failed or cancelled job")


class BatchEndedError(ServiceError):
    """Jobs cannot be added to or moved in a batch that has ended or is ending (409)."""


class UnknownJobError(ServiceError):
    """No job with that id in the batch (404)."""


class JobNotQueuedError(ServiceError):
    """The job is running, has ended or is starting: only a queued job moves (409)."""


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
                 observers: Sequence[ObserverFactory] = (),
                 claimant: Claimant | None = None) -> None:
        """``observers``: passed to every batch this slot runs (the add-on and the CLI give
        ``renderplus.around.watchers_factory()``: the feed, notices and the power action).
        ``claimant``: who owns the batches it runs (default: this process; a successor a
        batch was handed to passes the token it was named by, see ``ownership``)."""
        self.options = options or RunOptions()  # frozen; each batch keeps the one it started with
        self.work_dir = Path(work_dir) if work_dir else default_work_dir()
        self.store = store
        self.executor_factory = executor_factory  # None: this machine (local or session)
        self.observers = tuple(observers)
        self.claimant = claimant or ownership.this_process()
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
            batch = self._recover_batch(max(interrupted, key=lambda item: item.created))
        left = recovery.end_left_over_groups(self.store)
        if left and batch is not None:
            batch.report(f"Ended {len(left)} process group(s) left running by the dead run: "
                         + "; ".join(record.what[:80] for record in left))

    def _recover_batch(self, stored: StoredBatch) -> Batch | None:
        """Show the interrupted batch (resumable), after ending its orphaned Blenders: only while
        no other live Render+ has taken it meanwhile (then it is left alone: None)."""
        assert self.store is not None
        subject = ownership.batch_subject(stored.id)
        try:
            ownership.take(self.store, subject, self.claimant, stored.name)
        except (ClaimRefused, StoreError) as exc:
            log.warning("not recovering batch %s: %s", stored.id, exc)
            return None
        try:
            ended = recovery.end_orphans(stored)
        finally:
            self._give_up(subject)
        batch = self._restore(stored)
        if ended:
            batch.report(f"Ended the Blender process(es) of job(s) {ended} left by the dead run")
        self._batch, self._recipe = batch, batch.recipe
        return batch

    def _executor_for(self, recipe: Recipe) -> Executor | None:
        return self.executor_factory(recipe) if self.executor_factory is not None else None

    def _restore(self, stored: StoredBatch) -> Batch:
        """The stored batch as a ``Batch`` this slot can resume (its executor and observers)."""
        recipe = stored_recipe(stored)
        return self._owned(Batch.restore(stored, self.store, self.options,
                                         self._executor_for(recipe), observers=self.observers,
                                         recipe=recipe))

    def _owned(self, batch: Batch) -> Batch:
        """Let ``batch`` record (and claim) itself as this slot's claimant."""
        batch.changes.store.claimant = self.claimant
        return batch

    def _give_up(self, subject: str) -> None:
        if self.store is not None:
            try:
                ownership.release(self.store, subject, self.claimant)
            except StoreError as exc:
                log.error("cannot release %s: %s", subject, exc)

    def interrupted_view(self) -> BatchView | None:
        """The interrupted batch found at start, while it waits to be resumed."""
        batch = self._batch
        view = batch.view() if batch is not None else None
        return view if view is not None and view.resumable else None

    def resume(self) -> Batch:
        """Resume the interrupted batch, or re-run the last batch's FAILED and CANCELLED jobs
        and its FINISHED jobs' frames lost on disk since (only what is missing renders); raises
        BatchRunningError, NothingToResumeError, or BatchOwnedError while another live Render+
        owns that batch (it is not touched)."""
        with self._lock:
            if self.running:
                raise BatchRunningError()
            if self.store is None:
                raise NothingToResumeError("Nothing to resume: this server keeps no batch store")
            stored = self._to_resume()
            subject = ownership.batch_subject(stored.id)
            try:
                ownership.take(self.store, subject, self.claimant, stored.name)
            except ClaimRefused as exc:
                self._show_refusal(str(exc))
                raise BatchOwnedError(exc) from exc
            except StoreError as exc:
                raise NothingToResumeError(f"Cannot write the batch store: {exc}") from exc
            try:
                again = self._resume_owned(stored.id)
            except BaseException:
                self._give_up(subject)
                raise
            return again

    def _to_resume(self) -> StoredBatch:
        """The stored batch a resume is about: the interrupted one (shown here or found in the
        store), else the last one (which may run in another Render+: the claim decides)."""
        assert self.store is not None
        batch = self._batch
        try:
            if batch is not None and batch.view().resumable and batch.resumed_id is not None:
                return self.store.load(batch.resumed_id)
            interrupted = self.store.interrupted()
        except StoreError as exc:
            raise NothingToResumeError(f"Cannot read the batch store: {exc}") from exc
        if interrupted:
            return max(interrupted, key=lambda item: item.created)
        stored = self._last_stored(batch)
        if stored is None or not resumable(stored, self.store):
            raise NothingToResumeError()
        return stored

    def _resume_owned(self, stored_id: int) -> Batch:
        """Start the stored batch this slot now owns, read again as it stands (another process
        may have finished it between our look and our claim)."""
        assert self.store is not None
        try:
            fresh = self.store.load(stored_id)
        except StoreError as exc:
            raise NothingToResumeError(f"Cannot read the batch store: {exc}") from exc
        if not resumable(fresh, self.store):
            raise NothingToResumeError()
        # as it stood before this claim (RUNNING under nobody: interrupted); the batch shown
        # here is started itself while nobody changed it since (it keeps its messages)
        fresh = dataclasses.replace(fresh, claim=None, owner=None)
        shown = self._batch
        if shown is not None and shown.view().resumable and shown.lifecycle.restored is not None \
                and dataclasses.replace(shown.lifecycle.restored.stored, claim=None,
                                        owner=None) == fresh:
            shown.start()
            return shown
        again = self._restore(fresh)
        self._batch, self._recipe = again, again.recipe
        again.start()
        return again

    def _show_refusal(self, sentence: str) -> None:
        """The interrupted batch shown here is another process's now: no longer resumable."""
        batch = self._batch
        if batch is not None and batch.view().resumable:
            with batch.state.lock:
                batch.state.resumable = False
            batch.report(sentence)

    def owned_elsewhere(self) -> str | None:
        """Who owns the store's last batch, when another live Render+ runs it (the add-on's
        panel and ``--serve`` show this sentence); None otherwise."""
        if self.store is None or self.running:
            return None
        return ownership.running_elsewhere(self.store, self.claimant)

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
            batch = self._owned(Batch(self._recipe, self.options,
                                      self._executor_for(self._recipe), self.store,
                                      observers=self.observers))
            waiting = self._waiting
            if waiting is not None and waiting.recipe is self._recipe:  # moved while loaded
                batch.state.order.replace(waiting.state.order)
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
        if stored_id is None:
            return
        subject = ownership.batch_subject(stored_id)
        try:  # unless another live Render+ has resumed it meanwhile
            ownership.take(store, subject, self.claimant, batch.recipe.name)
            store.update_batch(stored_id, status=BatchStatus.CANCELLED, owner=None)
        except ClaimRefused as exc:
            log.info("the interrupted batch is not dropped: %s", exc)
            return
        except StoreError as exc:
            log.error("cannot update the batch store: %s", exc)
        self._give_up(subject)

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
            running = batch.running   # a shown, never started batch (interrupted) never ends
            batch.cancel()
            if running:
                batch.wait(timeout)

    # ---------------------------------------------------------------- changing a batch

    def add_jobs(self, data: Any) -> list[int]:
        """Add jobs to the current batch (loaded, running or paused; a loaded recipe gets
        them); their ids. RecipeError, BatchEndedError, NoRecipeError."""
        return self._edit(lambda batch: batch.add_jobs(data))

    def move_job(self, job_id: int, position: int) -> None:
        """Move a queued job (0 = next). UnknownJobError, JobNotQueuedError, BatchEndedError."""
        self._edit(lambda batch: batch.move_job(job_id, position))

    def set_job_enabled(self, job_id: int, enabled: bool) -> None:
        """Skip a queued job, or queue a disabled one again. As ``move_job``."""
        self._edit(lambda batch: batch.set_job_enabled(job_id, enabled))

    def _edit(self, change: Callable[[Batch], _T]) -> _T:
        """Run an edit on the batch a poll shows; under the slot's lock while that is the
        loaded recipe (``start`` makes its batch from it under the same lock)."""
        with self._lock:
            batch, recipe = self._batch, self._recipe
            if recipe is None:
                raise NoRecipeError()
            loaded = batch is None or batch.recipe is not recipe
            if loaded:
                waiting = self._waiting
                if waiting is None or waiting.recipe is not recipe:
                    waiting = self._waiting = Batch(recipe, self.options)
                return _edit_errors(change, waiting)
        assert batch is not None
        return _edit_errors(change, batch)


_T = TypeVar("_T")


def _edit_errors(change: Callable[[Batch], _T], batch: Batch) -> _T:
    """The engine's refusals as the slot's errors (each with its sentence)."""
    try:
        return change(batch)
    except NoSuchJob as exc:
        raise UnknownJobError(str(exc)) from exc
    except EditRefused as exc:
        raise (BatchEndedError if exc.ended else JobNotQueuedError)(str(exc)) from exc
