"""A batch's lifecycle: start it, run it (PRE_BATCH, the jobs, POST_BATCH), pause and continue
it, cancel it, end it.

``BatchLifecycle`` owns the batch's thread and the order of its phases; the jobs themselves
are the job loop's (``jobloop``). Threading: ``run()`` works in one thread (``start()`` makes
it a daemon thread), the only one that changes the batch, but for a cancel (any thread), which
marks a queued job CANCELLED at once.

A failed job never stops the batch; a cancelled batch marks the jobs it did not reach
CANCELLED, and calls off a power action still pending after it. A bug inside the run reports
itself and ends the batch CANCELLED rather than leaving it RUNNING forever. A stored batch that
another live Render+ owns (``ownership``) is not resumed: the batch ends CANCELLED at once,
saying by whom, and leaves the store to its owner. Its end releases the batch's claim.

A pause (``pause``: the request's rules are pause.py's) is stored at once (the store says
PAUSED from then on, so a kill -9 restarts it PAUSED); the loop starts no job and returns once
the running ones ended or stopped; then the idle Blender sessions and the frame reader end and
the batch is PAUSED (``BatchPaused``), its thread gone. ``resume_paused`` continues it in place
in a new thread (PRE_JOB hooks again, no PRE_BATCH; the same log); one restored PAUSED from the
store takes its record over first, as a resume does. A PAUSED batch cancelled ends CANCELLED.

When it renders (a start time: WAITING first; a window: paused at its end, continued at its
next start) is ``lifecycle_schedule``'s, a base of ``BatchLifecycle``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence

from .batch_hooks import BatchHooks
from .batch_schedule import BatchSchedule
from .batchstate import BatchState
from .changes import BatchChanges
from .executor_choice import ExecutorChoice
from .frame_previews import FramePreviews
from .jobloop import JobLoop
from .left_pausing import LeftPausing
from .lifecycle_schedule import ScheduledLifecycle
from .observers import BatchEnded, BatchPaused, ObserverContext, ObserverFactory, Observers
from .options import RunOptions, child_environment
from .paths import remove_stale_temp_dirs
from .pause import PauseRequest, check_when
from .resume import Restored, open_record
from .store.claims import ClaimRefused
from .view import BatchStatus, JobStatus

log = logging.getLogger("renderplus.batch")
PREVIEWS_END_WAIT = 30.0  # seconds the end of a batch waits for previews still queued
LEFT_PAUSING_CANCEL_WAIT = 60.0  # seconds a cancel waits for the farm to confirm a left pause's


class BatchLifecycle(ScheduledLifecycle):
    """Starts, runs, cancels and ends one batch (see the module docstring)."""

    def __init__(self, state: BatchState, changes: BatchChanges, hooks: BatchHooks,
                 executors: ExecutorChoice, options: RunOptions,
                 observers: Sequence[ObserverFactory] = ()) -> None:
        self.state = state
        self.changes = changes
        self.hooks = hooks
        self.executors = executors
        self.options = options
        self.observer_factories = tuple(observers)
        self.restored: Restored | None = None      # set when restored from the store
        self.loop: JobLoop | None = None          # made when the batch starts running
        self.left_pausing = LeftPausing(changes.report)   # a dead run's farm pause, finishing
        self.schedule = BatchSchedule(state.recipe, options.clock)   # start time and window
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- commands

    def start(self) -> None:
        """Run (or resume) the batch in a daemon thread and return at once."""
        state = self.state
        with state.lock:
            resumable = self.restored is not None and not state.done.is_set()
            if self._thread is not None or (state.status is not BatchStatus.WAITING and not resumable):
                raise RuntimeError("this batch was already started")
            self._plan_start()   # RUNNING, or WAITING for its start: visible before the thread
            self._thread = threading.Thread(target=self.run, name="renderplus-batch", daemon=True)
        self._thread.start()

    def cancel(self) -> bool:
        """Cancel the batch (and a power-off still pending after it); False if nothing to cancel."""
        state = self.state
        with state.lock:
            running = state.status is BatchStatus.RUNNING
            paused = state.status is BatchStatus.PAUSED and not state.cancel_asked.is_set()
            if running or paused or state.waiting:
                state.cancel_asked.set()
            if state.waiting:   # its thread wakes and ends it: no Blender ran, no hook
                state.go.set()
                return True
            loop = self.loop
            if paused:  # ends in a thread: the observers hear BatchEnded, which may take a while
                self._thread = threading.Thread(target=self._end_paused, name="renderplus-batch",
                                                daemon=True)
                self._thread.start()
                return True
        if running:
            self.hooks.stop()
            if loop is not None:
                loop.cancel_running()
            return True
        return self.changes.observers.cancel_pending()

    def pause(self, when: str, by: str | None = None) -> bool:
        """Pause the running batch (module docstring); False when it does not run, is being
        cancelled, or a pause as strong is under way. ValueError for an unknown ``when``.
        ``by``: "window" for its window's end (it continues by itself), None by hand; a hand
        pause during or after the window's makes it a hand pause (it waits for a resume)."""
        request = PauseRequest(check_when(when), time.time())
        state = self.state
        with state.lock:
            if by is None and state.paused_by is not None and not state.cancel_asked.is_set() \
                    and state.status in (BatchStatus.RUNNING, BatchStatus.PAUSED):
                self._paused_by_hand()
                if state.status is BatchStatus.PAUSED or not request.stronger_than(state.pause):
                    return True
            if state.status is not BatchStatus.RUNNING or state.cancel_asked.is_set() \
                    or not request.stronger_than(state.pause):
                return False
            if state.pause is None:   # a stronger pause over one under way keeps its pauser
                state.paused_by = by
            state.pause = request
            loop = self.loop
            # under the lock: the batch's end sets its status under it, and is written after
            self.changes.store.batch(status=BatchStatus.PAUSED, paused_by=state.paused_by)
        window = self.schedule.window
        self.changes.report(request.sentence if by is None else
                            f"Its window {window} has ended: {request.sentence.lower()}")
        if loop is not None and request.stops_jobs:
            loop.pause_running(request.when)
        return True

    def resume_paused(self) -> bool:
        """Continue a PAUSED batch in place, in a new thread; False unless PAUSED."""
        state = self.state
        with state.lock:
            if state.status is not BatchStatus.PAUSED or state.cancel_asked.is_set():
                return False
            self.schedule.disarm()
            state.status = BatchStatus.RUNNING
            state.paused_by, state.continues_at = None, None
            if self.loop is not None:   # else restored from the store: run() takes it over
                self.changes.store.batch(status=BatchStatus.RUNNING, paused_by=None)
            self._thread = threading.Thread(target=self.run if self.loop is None else self._go_on,
                                            name="renderplus-batch", daemon=True)
            self._thread.start()
        return True

    def cancel_job(self, job_id: int) -> bool:
        """Cancel one job: a running one ends (the batch goes on), a queued one is CANCELLED.
        False when the batch does not run or the job has already ended."""
        with self.state.lock:
            if self.state.waiting:   # nothing runs before its start: a queued job ends at once
                return self._cancel_before_the_loop(job_id)
            if self.state.status is not BatchStatus.RUNNING:
                return False
            loop = self.loop
            if loop is None:  # started, its loop not made yet: a queued job ends at once
                return self._cancel_before_the_loop(job_id)
        return loop.cancel_job(job_id)  # not under the lock: ending a hook may take a while

    def _cancel_before_the_loop(self, job_id: int) -> bool:
        if not 0 <= job_id < len(self.state.jobs):
            return False
        job = self.state.jobs[job_id]
        if job.status is not JobStatus.QUEUED:
            return False
        self.changes.set_status(job, JobStatus.CANCELLED, "Cancelled before it started")
        return True

    def cancel_current_job(self) -> bool:
        """Cancel the job that is rendering (the lowest running one); the batch goes on."""
        current = self.state.current
        return current is not None and self.cancel_job(current)

    # ---------------------------------------------------------------- the run

    def run(self) -> BatchStatus:
        """Run every enabled job in order in this thread; returns the final status."""
        state = self.state
        with state.lock:
            resuming = self.restored is not None
            if state.done.is_set() or (self._thread is None and state.status is not BatchStatus.WAITING
                                       and not resuming):
                raise RuntimeError("this batch was already run")
            if self._thread is None:
                self._plan_start()
            waiting = state.waiting
            state.resumable = False
            if not waiting and (state.started is None or not resuming):
                state.started = time.time()
            state.finished = None
        remove_stale_temp_dirs()
        self.changes.log.open(state.recipe, self.options)
        self._wait_left_pausing()
        try:
            open_record(state, self.changes, self.restored)
        except ClaimRefused as exc:   # another live Render+ runs this stored batch
            return self._refused(str(exc))
        observers = Observers.start(self.observer_factories, ObserverContext(
            state.recipe, self.changes.report, state.changed))
        self.changes.observers = observers
        state.poweroff = lambda: observers.pending
        loop = JobLoop(state, state.order, self.executors, self.changes.store, self.hooks,
                       self.changes, self.options)
        with state.lock:
            self.loop = loop
        self.changes.job_state_changed()
        if waiting and not self._wait_for_start():
            self._cancel_queued("Cancelled before its start")
            self._finish()
            return state.status
        restored = self.restored
        return self._go(loop, pre_batch=restored is None or restored.stored.status is not BatchStatus.PAUSED)

    def _wait_left_pausing(self) -> None:
        """Before a restored batch's jobs run again: the farm pauses a dead run left going on
        end first (their chunks' frames then count as done); a cancel meanwhile cancels them."""
        left = self.left_pausing
        if left.wait(0):
            return
        self.changes.report(f"Waiting for the pause of job(s) {list(left.jobs)} to end on the farm")
        while not left.wait(0.5):
            if self.state.cancel_asked.is_set():
                self.executors.close()   # the farm jobs still followed are cancelled
                left.wait(LEFT_PAUSING_CANCEL_WAIT)
                return

    def _go_on(self) -> BatchStatus:
        """The paused batch's loop again (its order, its log, its observers)."""
        loop = self.loop
        assert loop is not None
        loop.previews = FramePreviews(self.changes.log.write, child_environment(self.options, {}))
        self.changes.log.section("batch continued")
        self.changes.report("Continued after the pause: only the missing frames render")
        self.changes.job_state_changed()
        return self._go(loop, pre_batch=False)

    def _go(self, loop: JobLoop, pre_batch: bool) -> BatchStatus:
        state = self.state
        paused = False
        closes = self.schedule.window_closes()
        if closes is not None:
            self.schedule.arm(closes, self._window_closes, "renderplus-window-closes")
        try:
            if pre_batch:
                self.hooks.run_batch("PRE_BATCH")
            loop.run()
            paused = self._paused(loop)
            if not paused and not state.cancel_asked.is_set():
                self.hooks.run_batch("POST_BATCH")
        except Exception as exc:  # a bug must not leave a batch RUNNING forever
            log.exception("batch crashed")
            self.changes.report(f"Internal error, batch stopped: {exc!r}")
            state.cancel_asked.set()
            state.seal()
            self.executors.close()
            for job in state.jobs:
                if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
                    self.changes.set_status(job, JobStatus.CANCELLED)
        finally:
            if not paused:
                self._finish()
        return state.status

    def _paused(self, loop: JobLoop) -> bool:
        """After a loop a pause stopped: end the idle Blenders, then PAUSED. False when there
        is nothing to pause (every job had ended) or a cancel came meanwhile. A batch its
        window paused continues by itself at the window's next start."""
        state = self.state
        with state.lock:
            if state.pause is None or not len(loop.order):
                state.pause, state.paused_by = None, None
                state.seal()   # it ends: a job added from now on is refused, never left QUEUED
                return False
        if not state.cancel_asked.is_set():
            self.executors.end_idle()   # a session left idle by the pause ends: no Blender stays
            loop.previews.close()
        with state.lock:
            cancelled = state.cancel_asked.is_set()
            by_window = state.paused_by == "window"
            opens = self.schedule.window_opens() if by_window and not cancelled else None
            if not cancelled:
                state.status, state.pause, state.current = BatchStatus.PAUSED, None, None
                state.continues_at = opens   # a poll that sees PAUSED sees when it continues
                self.changes.store.batch(status=BatchStatus.PAUSED)
                self.schedule.disarm()   # the window's end: paused already
        if cancelled:   # came while the pause ended the loop: the jobs it left end too
            self._cancel_queued("Cancelled")
            return False
        waiting = sum(1 for job in state.jobs if job.status is JobStatus.QUEUED)
        if opens is not None:
            self.changes.report(f"Paused at the end of its window {self.schedule.window}: "
                                f"{waiting} job(s) continue by themselves at "
                                f"{self.schedule.say(opens)}")
        else:
            self.changes.report(f"Paused: no Blender runs; {waiting} job(s) wait to continue "
                                "(GET /batch/resume)")
        self.changes.store.flush()
        self.changes.log.section("batch PAUSED")
        self.changes.job_state_changed()
        self.changes.observers.notify(BatchPaused(state.view()))
        if opens is not None:
            with state.lock:
                if state.status is BatchStatus.PAUSED and state.paused_by == "window":
                    self._continue_at(opens)
        return True

    def _end_paused(self) -> None:
        """A PAUSED batch cancelled: its queued jobs and then itself end CANCELLED (one restored
        from the store takes its record over first, unless another live Render+ owns it)."""
        restored = self.restored
        if self.loop is None and restored is not None:
            try:
                self.changes.store.attach(restored.stored.id, restored.stored.name)
            except ClaimRefused as exc:
                self._refused(str(exc))
                return
        self._cancel_queued("Cancelled while paused")
        self._finish()

    def _cancel_queued(self, message: str) -> None:
        for job in self.state.jobs:
            if job.status is JobStatus.QUEUED:
                self.changes.set_status(job, JobStatus.CANCELLED, message)

    def _refused(self, sentence: str) -> BatchStatus:
        """End without rendering and without writing the store, which the owner writes."""
        self.changes.store.batch_id = None
        self.changes.report(sentence)
        with self.state.lock:
            self.state.sealed = True
            for job in self.state.jobs:
                if job.status is JobStatus.QUEUED:
                    job.status = JobStatus.CANCELLED
        self.state.cancel_asked.set()
        self._finish()
        return self.state.status

    def _finish(self) -> None:
        state, changes = self.state, self.changes
        self.schedule.disarm()
        state.seal()
        self.executors.close()  # an idle Blender session ends with its batch
        cancelled = state.cancel_asked.is_set()
        if self.loop is not None:  # the frame reader ends with its batch (after its queue)
            self.loop.previews.close(drop_waiting=cancelled)
            self.loop.movies.close()  # an encode left by a crash of the loop ends too
        with state.lock:
            state.finished = time.time()
            state.current, state.starts_at, state.continues_at = None, None, None
            state.status = BatchStatus.CANCELLED if cancelled else BatchStatus.FINISHED
            failed = state.failed_jobs
        if failed:
            total = sum(1 for job in state.jobs if job.status is not JobStatus.DISABLED)
            changes.report(f"{failed} of {total} job{'s' if total != 1 else ''} failed")
        changes.store.end(status=state.status, finished=state.finished)
        changes.store.flush()   # a store that failed earlier gets its last chance now
        changes.job_state_changed()
        changes.log.section(f"batch {state.status.value}")
        changes.log.write(json.dumps(state.snapshot(), indent=2))
        changes.observers.notify(BatchEnded(state.view()))
        if self.loop is not None and not cancelled:  # a CLI exiting now keeps the last previews
            self.loop.previews.join(PREVIEWS_END_WAIT)
        changes.log.close()
        state.mark_done()
