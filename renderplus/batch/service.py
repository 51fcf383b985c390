"""One batch slot shared by the HTTP server, the CLI and the add-on.

The server answers requests from many threads and the add-on polls from Blender's main thread;
both go through this object, which holds the loaded recipe and the current (or last) batch
behind a lock, so a recipe cannot be swapped under a running batch and two batches never run.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import ownership, process_groups, recovery, service_stored
from .blender_pick import blender_problems
from .executors import Executor
from .observers import ObserverFactory
from .options import RunOptions, choose_blender
from .pause import check_when
from .queue import QueueEntry, QueueView
from .queue_runner import QueueRunner
from .recipe import Recipe
from .runner import Batch, stored_recipe
from .service_errors import (
    BatchEndedError,
    BatchOwnedError,
    BatchRunningError,
    JobNotQueuedError,
    NoRecipeError,
    NothingToResumeError,
    NotRunningError,
    OutsideWindowError,
    PauseError,
    QueuedStartedError,
    QueueOwnedError,
    QueueStoreError,
    ServiceError,
    T,
    UnknownJobError,
    UnknownQueuedError,
    edit_refusals,
)
from .service_setup import default_work_dir, open_store, with_memory_history
from .store import BatchStore, BatchSummary, StoredBatch, StoreError
from .store.claims import Claimant, ClaimRefused
from .store.groups import StoredGroups
from .view import BatchStatus, BatchView

__all__ = [
    "BatchEndedError", "BatchOwnedError", "BatchRunningError", "BatchService", "JobNotQueuedError",
    "NoRecipeError", "NotRunningError", "NothingToResumeError", "OutsideWindowError", "PauseError",
    "QueueOwnedError",
    "QueueStoreError", "QueuedStartedError", "ServiceError", "UnknownJobError",
    "UnknownQueuedError", "default_work_dir", "open_store",
]
log = logging.getLogger("renderplus.batch")



class BatchService:
    """Holds the recipe and the batch; every method is safe to call from any thread."""

    def __init__(self, options: RunOptions | None = None,
                 work_dir: str | os.PathLike[str] | None = None,
                 store: BatchStore | None = None,
                 executor_factory: Callable[[Recipe], Executor] | None = None,
                 observers: Sequence[ObserverFactory] = (),
                 claimant: Claimant | None = None, continue_queue: bool = False) -> None:
        """``observers``: passed to every batch this slot runs (the add-on and the CLI give
        ``renderplus.around.watchers_factory()``: the feed, notices and the power action).
        ``claimant``: who owns the batches it runs (default: this process; a successor a
        batch was handed to passes the token it was named by, see ``ownership``).
        ``continue_queue``: a queue left by an earlier run goes on (else it is held)."""
        self.options = options or RunOptions()  # frozen; each batch keeps the one it started with
        self.work_dir = Path(work_dir) if work_dir else default_work_dir()
        self.store = store
        self.executor_factory = executor_factory  # None: this machine (local or session)
        self.queue_runner = QueueRunner(self, continue_queue)
        self.observers = self.queue_runner.observers(observers)
        self.claimant = claimant or ownership.this_process()
        self.farm_status: Callable[[], dict[str, object] | None] | None = None  # /test: FarmChoice.status
        self._lock = threading.RLock()   # the queue's hand-over resumes under it
        self._recipe: Recipe | None = None
        self._batch: Batch | None = None
        self._waiting: Batch | None = None
        if store is not None:
            self.options = with_memory_history(self.options, store)
            self._recover()
        self.queue_runner.start()

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
        """The binary a batch of the loaded recipe would use now ("auto": the one chosen for its
        first enabled job)."""
        return choose_blender(self._recipe, self.options.blender_bin, candidates=self.options.blenders)

    def blender_problems(self) -> list[str]:
        """Why jobs of the loaded recipe would find no Blender (``blender_pick``)."""
        return blender_problems(self._recipe, self.options.blender_bin, candidates=self.options.blenders)

    def set_options(self, options: RunOptions) -> None:
        """Options for batches started from now on; a running batch keeps its own."""
        self.options = with_memory_history(options, self.store)

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
        elif (paused := service_stored.left_paused(self.store)) is not None:
            batch = self._recover_batch(paused)
        elif (waiting := service_stored.left_waiting(self.store)) is not None:
            batch = self._recover_batch(waiting)
            if batch is not None:
                batch.start()   # it waits again for its start, and starts by itself
        left = recovery.end_left_over_groups(self.store)
        if left and batch is not None:
            batch.report(f"Ended {len(left)} process group(s) left running by the dead run: "
                         + "; ".join(record.what[:80] for record in left))

    def show_last_ended(self) -> Batch | None:
        """Show the store's last batch as it ended, when this slot shows none (a Blender opened
        after the server it handed its batch to finished it: the artist sees how it went); a
        resume of it re-runs what failed, as for any ended batch. None: nothing to show."""
        with self._lock:
            if self.store is None or self._batch is not None or self._recipe is not None:
                return None
            try:
                stored = self.store.latest()
            except StoreError as exc:
                log.warning("cannot read the batch store: %s", exc)
                return None
            if stored is None or stored.status not in (BatchStatus.FINISHED, BatchStatus.CANCELLED):
                return None
            batch = self._owned(Batch.restore(stored, self.store, self.options,
                                              self._executor_for(stored_recipe(stored)),
                                              observers=self.observers))
            self._batch, self._recipe = batch, batch.recipe
            return batch

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
        lost = self.queue_runner.restore_secrets(stored.id, recipe)
        batch = self._owned(Batch.restore(stored, self.store, self.options,
                                          self._executor_for(recipe), observers=self.observers,
                                          recipe=recipe))
        if lost:
            batch.report(lost)
        return batch

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
        owns that batch (it is not touched). A PAUSED batch continues in place (``pause``)."""
        batch = self._batch
        if batch is not None and batch.status is BatchStatus.PAUSED:
            return self._continue_paused(batch)
        with self._lock:
            if self.running:
                raise service_stored.busy(self._batch)
            if self.store is None:
                raise NothingToResumeError("Nothing to resume: this server keeps no batch store")
            stored = service_stored.to_resume(self.store, self._batch)
            try:
                service_stored.claim(self.store, stored.id, self.claimant, stored.name)
            except BatchOwnedError as exc:
                self._show_refusal(str(exc))
                raise
            try:
                return self._resume_owned(stored.id)
            except BaseException:
                self._give_up(ownership.batch_subject(stored.id))
                raise

    def _resume_owned(self, stored_id: int) -> Batch:
        """Start the stored batch this slot now owns, as it stands now; the interrupted batch
        shown here is started itself while nobody changed it since."""
        assert self.store is not None
        fresh = service_stored.still_resumable(self.store, stored_id)
        shown = self._batch
        if service_stored.same_as_shown(shown, fresh):
            assert shown is not None
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

    def history(self, limit: int = 50, offset: int = 0) -> list[BatchSummary]:
        """Past batches, newest first (empty without a store)."""
        return self.store.history(limit, offset) if self.store is not None else []

    def load_recipe(self, recipe: Recipe) -> None:
        with self._lock:
            if self.running or self.paused:
                raise service_stored.busy(self._batch)
            self._recipe = recipe

    def start(self) -> Batch:
        """Start the loaded recipe; a batch with a start time or a window may wait (WAITING)."""
        with self._lock:
            if self.running or self.paused:
                raise service_stored.busy(self._batch)
            if self._recipe is None:
                raise NoRecipeError()
            self._drop_interrupted()
            batch = self._new_batch(self._recipe)
            waiting = self._waiting
            if waiting is not None and waiting.recipe is self._recipe:  # moved while loaded
                batch.state.order.replace(waiting.state.order)
            self._batch = batch
            batch.start()
            return batch

    def _new_batch(self, recipe: Recipe) -> Batch:
        """A batch of this slot; its secrets are kept beside the store until it ends."""
        return self.queue_runner.keep_secrets(self._owned(Batch(
            recipe, self.options, self._executor_for(recipe), self.store, observers=self.observers)))

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

    # ---------------------------------------------------------------- the queue (queue_runner)

    def enqueue(self, recipe: Recipe) -> QueueEntry:
        """Starts at once when no batch runs or is paused and the queue is not held."""
        return self.queue_runner.enqueue(recipe)

    def queue_view(self) -> QueueView:
        return self.queue_runner.view()

    def move_queued(self, queue_id: int, position: int) -> QueueView:
        return self.queue_runner.move(queue_id, position)   # 0 = next, past the end = last

    def drop_queued(self, queue_id: int) -> None:
        self.queue_runner.drop(queue_id)   # QueuedStartedError once it is the current batch

    def hold_queue(self) -> QueueView:
        return self.queue_runner.hold()

    def continue_queue(self) -> QueueView:
        return self.queue_runner.go_on()

    def idle(self) -> bool:
        """Nothing runs, waits or is paused, and the queue starts nothing more (empty or held;
        a store that cannot be read counts as empty). Read under the slot's lock, under which
        the queue hands its next batch over: a batch just taken from the queue and not started
        yet is never taken for the end (a handed-over server stops when this turns True)."""
        with self._lock:
            batch = self._batch
            if batch is not None and (batch.running or batch.status is BatchStatus.PAUSED):
                return False
            try:
                return self.queue_runner.empty() or self.queue_runner.queue.held
            except StoreError:
                return True

    @property
    def stopping(self) -> bool:
        return self.queue_runner.stopping

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel a running batch (and any pending power-off) and wait for it to end; the queue
        stays, held, and no queued batch starts."""
        self.queue_runner.stop()
        batch = self._batch
        if batch is not None and not batch.view().paused:   # a paused batch stays PAUSED
            running = batch.running   # a shown, never started batch (interrupted) never ends
            batch.cancel()
            if running:
                batch.wait(timeout)
        self.queue_runner.stopped()

    def suspend(self, timeout: float = 10.0) -> bool:
        """The process ends (Blender quits): a running batch is paused now, never cancelled --
        the frames written stay, it is recorded PAUSED, and the next start (or the server it is
        handed to) continues it, rendering only what is missing. A batch waiting for its start
        time stays waiting; the queue stays. Then it stops as ``shutdown`` does. True when the
        batch is left PAUSED, so something may continue it."""
        self.queue_runner.stop()
        batch = self._batch
        left_paused = False
        if batch is not None and batch.running and batch.status is not BatchStatus.WAITING:
            batch.pause("now")               # upgrades a pause under way; refused once it ends
            deadline = time.monotonic() + timeout
            revision = batch.revision
            while batch.running and batch.status is not BatchStatus.PAUSED:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                revision = batch.wait_change(revision, min(left, 0.5))
        if batch is not None:
            left_paused = batch.status is BatchStatus.PAUSED
        self.queue_runner.stopped()
        return left_paused

    # ---------------------------------------------------------------- pause (docs/api.md, Pause)

    @property
    def paused(self) -> bool:
        batch = self._batch
        return batch is not None and batch.status is BatchStatus.PAUSED

    def pause(self, when: str = "frame") -> None:
        """Pause the running batch ("now", "frame" or "job"; ValueError for another):
        NotRunningError when none runs, PauseError when it is paused or pausing already."""
        check_when(when)
        batch = self._batch
        if batch is None or not batch.pause(when):
            raise service_stored.pause_refused(batch)

    def _continue_paused(self, batch: Batch) -> Batch:
        """Continue a PAUSED batch in place; one restored from the store (a restart) is
        claimed first, as for a resume (BatchOwnedError while another live Render+ owns it).
        Outside its window it is not: OutsideWindowError says when it continues by itself."""
        refused = service_stored.outside_window(batch)
        if refused is not None:
            raise refused
        if self.store is not None and batch.store_id is None and batch.resumed_id is not None:
            service_stored.claim(self.store, batch.resumed_id, self.claimant, batch.recipe.name)
        if not batch.resume_paused():
            raise NothingToResumeError("Nothing to resume: the batch is no longer paused")
        return batch

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

    def _edit(self, change: Callable[[Batch], T]) -> T:
        """Run an edit on the batch a poll shows; under the slot's lock while that is the
        loaded recipe (``start`` makes its batch from it under the same lock)."""
        with self._lock:
            if self.stopping:
                raise BatchEndedError("The server is stopping: the batch takes no changes")
            batch, recipe = self._batch, self._recipe
            if recipe is None:
                raise NoRecipeError()
            loaded = batch is None or batch.recipe is not recipe
            if loaded:
                waiting = self._waiting
                if waiting is None or waiting.recipe is not recipe:
                    waiting = self._waiting = Batch(recipe, self.options)
                return edit_refusals(change, waiting)
        assert batch is not None
        return edit_refusals(change, batch)

