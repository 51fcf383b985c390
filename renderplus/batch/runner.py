"""A batch: one run of a recipe, composed of its state, its job loop and its lifecycle.

``Batch`` is a thin facade that builds the parts and keeps the API the server, the CLI and the
add-on use (docs/engine-api.md). The parts, each given what it uses:

- ``BatchState`` (``batchstate``): statuses, times, messages, the revision, the frozen views;
- ``JobLoop`` (``jobloop``): starts jobs in a ``RunOrder`` (``order``) on the executor an
  ``ExecutorChoice`` (``executor_choice``) picks for each job, applies their events, verifies
  and stores frames, retries crashes;
- ``BatchLifecycle`` (``lifecycle``): start, run (PRE_BATCH, the loop, POST_BATCH), cancel, end.

Around them: ``BatchChanges`` (``changes``: each change applied, logged, stored, announced),
``BatchHooks`` (``batch_hooks``), ``RunLog`` (``runlog``), the ``StoreWriter``
(``store.writer``), resuming from the store (``resume``) and the observer port
(``observers``), through which the CLI and the add-on attach the feed, notices and power action.

*Where and how* a job's Blender runs is the executor's (``executors/``). A job FAILS when a
PRE_JOB hook fails, its .blend is missing, Blender exits non-zero, or Blender exits 0 without
writing every frame it was asked for (see outcome.py); a crash (a signal, an exit that is not an
override error, a known fatal GPU/driver/memory message) is retried ``settings.retries`` times,
rendering only the frames still missing. A batch read back from the store (``Batch.restore``)
can be resumed: only missing or unverified frames render.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .batch_hooks import BatchHooks
from .batchstate import BatchState
from .changes import BatchChanges
from .edits import BatchEdits, EditRefused, NoSuchJob
from .executor_choice import ChooseExecutor, ExecutorChoice, always, this_machine
from .executors import Executor, JobHandle
from .lifecycle import BatchLifecycle
from .observers import ObserverFactory
from .options import RunOptions, choose_blender
from .recipe import Recipe, parse_recipe
from .resume import restore_state
from .runlog import RunLog
from .slots import slot_count
from .store import BatchStore, StoredBatch, StoreWriter
from .view import BatchStatus, BatchView

__all__ = ["Batch", "EditRefused", "NoSuchJob", "RunOptions", "stored_recipe"]


def stored_recipe(stored: StoredBatch) -> Recipe:
    """The recipe a stored batch ran (relative paths against its stored folder)."""
    return parse_recipe(stored.recipe_json, base_dir=stored.base_dir or None)


class Batch:
    """One run of a recipe (see the module docstring); every method is safe from any thread."""

    def __init__(self, recipe: Recipe, options: RunOptions | None = None,
                 executor: Executor | None = None, store: BatchStore | None = None, *,
                 choose_executor: ChooseExecutor | None = None,
                 observers: Sequence[ObserverFactory] = ()) -> None:
        """``executor``: every job on it (a farm); ``choose_executor``: an executor per job;
        neither: this machine's (a process per job, or a Blender session). ``observers``: made
        when the batch starts running (``renderplus.around.watchers_factory`` for the feed,
        notices and power action)."""
        self.recipe = recipe
        self.options = options or RunOptions()  # frozen: a batch's options never change
        self.state = BatchState(recipe, slot_count(recipe))
        choose = choose_executor or (always(executor) if executor is not None
                                     else this_machine(recipe, self.state.slots,
                                                       self.options.kill_grace))
        local = executor is None and choose_executor is None
        self.executors = ExecutorChoice(choose, given=executor,
                                        limit=self.state.slots if local else None)
        changes = self.changes = BatchChanges(self.state, RunLog(self.report),
                                              StoreWriter(store, self.report))
        self.hooks = BatchHooks(self.state, changes, self.options)
        self.lifecycle = BatchLifecycle(self.state, changes, self.hooks, self.executors,
                                        self.options, observers)
        self.edits = BatchEdits(self.state, changes, self._wake_loop)

    @classmethod
    def restore(cls, stored: StoredBatch, store: BatchStore | None, options: RunOptions | None = None,
                executor: Executor | None = None, *, observers: Sequence[ObserverFactory] = (),
                recipe: Recipe | None = None) -> Batch:
        """A stored batch shown as it was (an interrupted one CANCELLED and ``resumable``, each
        job with the frames it recorded); ``start()`` resumes it: unfinished jobs render only
        their missing frames. ``recipe``: the stored recipe, when the caller parsed it already.
        A PAUSED one whose farm jobs a dead Render+ left pausing finishes their pause on
        ``executor`` (``left_pausing``); continuing it waits until nothing of it is on the farm."""
        if recipe is None:
            recipe = stored_recipe(stored)
        batch = cls(recipe, options, executor, store, observers=observers)
        batch.lifecycle.restored = restore_state(batch.state, stored, store)
        batch.lifecycle.restore_schedule()
        batch.lifecycle.left_pausing.start(stored, executor)
        return batch

    # ---------------------------------------------------------------- reading

    @property
    def status(self) -> BatchStatus:
        return self.state.status

    @property
    def running(self) -> bool:
        return self.state.running

    @property
    def revision(self) -> int:
        return self.state.revision

    @property
    def failed_jobs(self) -> int:
        return self.state.failed_jobs

    @property
    def slots(self) -> int:
        return self.state.slots

    def view(self) -> BatchView:
        """The batch now, as a frozen view (one per revision, shared by every reader)."""
        return self.state.view()

    def snapshot(self) -> dict[str, Any]:
        """The poll (docs/api.md, Poll) as a dict (``view().to_json()``)."""
        return self.state.snapshot()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the batch has ended; False on timeout."""
        return self.state.wait(timeout)

    def wait_change(self, revision: int, timeout: float | None = None) -> int:
        """Block until the revision moves past ``revision`` (or the timeout); the revision."""
        return self.state.wait_change(revision, timeout)

    @property
    def log(self) -> RunLog:
        """The batch's log (``log.path``: its file, or None when none is written)."""
        return self.changes.log

    @property
    def resumed_id(self) -> int | None:
        """The store id of the batch this one was restored from (None for a new batch)."""
        restored = self.lifecycle.restored
        return restored.stored.id if restored is not None else None

    @property
    def store_id(self) -> int | None:
        """The batch's id in the durable store (None without a store)."""
        return self.changes.store.batch_id

    @property
    def blender_bin(self) -> str:
        """The batch's Blender (a job may name its own: ``blender_for``)."""
        return choose_blender(self.recipe, self.options.blender_bin, candidates=self.options.blenders)

    def blender_for(self, job_id: int) -> str:
        return choose_blender(self.recipe, self.options.blender_bin, self.recipe.jobs[job_id],
                              candidates=self.options.blenders)

    def handle(self, job_id: int) -> JobHandle | None:
        """The durable handle of the job's current (or last) run, or None before it started."""
        with self.state.lock:
            return self.state.jobs[job_id].handle

    # ---------------------------------------------------------------- commands

    def start(self) -> None:
        """Run (or resume) the batch in a daemon thread and return at once."""
        self.lifecycle.start()

    def run(self) -> BatchStatus:
        """Run every enabled job in order in this thread; returns the final status."""
        return self.lifecycle.run()

    def cancel(self) -> bool:
        """Cancel the batch, running or PAUSED (and a power-off still pending after it); False
        if nothing to cancel."""
        return self.lifecycle.cancel()

    def pause(self, when: str) -> bool:
        """Pause the running batch: ``"now"`` (every Blender ends at once), ``"frame"`` (each
        running job after the frame it is writing) or ``"job"`` (after the running jobs);
        then PAUSED (docs/engine-api.md, Pause). False when it does not run, or a pause as
        strong is under way (a stronger one upgrades it); ValueError for an unknown ``when``."""
        return self.lifecycle.pause(when)

    @property
    def pausing(self) -> str | None:
        """The ``when`` of the pause under way, or None."""
        pause = self.state.pause
        return pause.when if pause is not None else None

    def resume_paused(self) -> bool:
        """Continue a PAUSED batch in place (a new thread; only what is missing renders, PRE_JOB
        hooks run again, PRE_BATCH does not); False unless PAUSED."""
        return self.lifecycle.resume_paused()

    def cancel_job(self, job_id: int) -> bool:
        """Cancel one job: a running one ends (the batch goes on), a queued one is CANCELLED.
        False when the batch does not run or the job has already ended."""
        return self.lifecycle.cancel_job(job_id)

    def cancel_current_job(self) -> bool:
        """Cancel the job that is rendering (the lowest running one); the batch goes on."""
        return self.lifecycle.cancel_current_job()

    def add_jobs(self, data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[int]:
        """Add jobs (one job object or a list, validated like a recipe's) to the end of the run
        order of this loaded, running or paused batch; their ids (after the last one). Raises
        RecipeError (paths ``jobs[0]``...) or EditRefused (the batch has ended or is ending)."""
        return self.edits.add_jobs(data)

    def move_job(self, job_id: int, position: int) -> None:
        """Move a queued job among the queued ones (0 = next; past the end = last). Raises
        NoSuchJob, or EditRefused for a job that is not queued (the sentence says why)."""
        self.edits.move_job(job_id, position)

    def set_job_enabled(self, job_id: int, enabled: bool) -> None:
        """Skip a queued job (DISABLED) or queue a disabled one again, last. NoSuchJob,
        EditRefused."""
        self.edits.set_job_enabled(job_id, enabled)

    def _wake_loop(self) -> None:
        with self.state.lock:
            loop = self.lifecycle.loop
        if loop is not None:
            loop.wake()

    def report(self, message: str) -> None:
        """Add a batch message (the log, the store and the poll's ``messages``)."""
        self.changes.report(message)

    @property
    def poweroff_pending(self) -> bool:
        """Whether an observer's after-batch action (a power-off) is pending."""
        return self.changes.observers.pending is not None

    def wait_poweroff(self, timeout: float | None = None) -> bool:
        """Block until a pending power action ran or was called off (a CLI about to exit)."""
        return self.changes.observers.wait_pending(timeout)
