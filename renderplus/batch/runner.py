"""Runs a batch: what runs next, its hooks, statuses, times, retries, stats and cancel.

*Where and how* a job's Blender runs is the executor's (``executors/``); the runner hands it a
``JobLaunch`` with the exact frames to render and applies the events it sends back. Threading:
``run()`` works in one thread (``start()`` makes it a daemon thread), the only one that changes
the batch (but for a cancel, which marks a queued job CANCELLED at once); executors post events
from their own threads into a queue that this thread drains. Every other method may be called
from any thread. Each change is written to the durable store (``Recorder``) before the
revision that pollers watch goes up (``batchstate.py``).

A job FAILS when a PRE_JOB hook fails, its .blend is missing, Blender exits non-zero, or
Blender exits 0 without writing every frame it was asked for (see outcome.py); a crash (a
signal, an exit that is not an override error, a known fatal GPU/driver/memory message) is
retried ``settings.retries`` times, rendering only the frames still missing. A failed job never
stops the batch; a cancelled batch marks the jobs it did not reach CANCELLED. A batch read back
from the store (``Batch.restore``) can be resumed: only missing or unverified frames render.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
import time
from pathlib import Path

from ..around import BatchWatchers
from . import outputs
from .executors import (
    ExecEvent,
    Executor,
    JobHandle,
    ProcessExecutor,
)
from .executors.session import SessionExecutor
from .hooks import HookResult, HookRunner, hook_environment
from .jobflow import JobFlow
from .jobrecord import JobRecord
from .logfile import BatchLog
from .options import RunOptions, choose_blender
from .parser import JobProgress
from .paths import remove_stale_temp_dirs, state_dir
from .recipe import Recipe, parse_recipe
from .recorder import Recorder
from .slots import (
    slot_count,
    uses_session,
)
from .store import BatchStore, StoredBatch, StoredFrame, StoreError
from .view import BatchStatus, HookRun, JobStatus

log = logging.getLogger("renderplus.batch")

__all__ = ["Batch", "RunOptions"]


class Batch(JobFlow):
    """One run of a recipe. See the module docstring for the threading rules."""

    def __init__(self, recipe: Recipe, options: RunOptions | None = None,
                 executor: Executor | None = None, store: BatchStore | None = None) -> None:
        super().__init__(recipe, slot_count(recipe))
        self.options = options or RunOptions()  # frozen: a batch's options never change
        self.executor: Executor = executor or (SessionExecutor(grace=self.options.kill_grace)
                                               if uses_session(recipe, self.slots)
                                               else ProcessExecutor(self.slots))
        self._free_slots = list(range(self.slots))
        self._slot_of: dict[int, int] = {}
        self._memory_note: int | None = None
        self._cancel_batch = threading.Event()
        self._events: queue.Queue[ExecEvent] = queue.Queue()
        self._active: dict[int, JobRecord] = {}
        self._hooks = HookRunner(self._log_line, self.options.kill_grace)
        self._hook_job: int | None = None
        self._thread: threading.Thread | None = None
        self._watchers: BatchWatchers | None = None
        self._recorder = Recorder(store, self.report)
        self._resume_of: StoredBatch | None = None
        self._recorded: dict[int, dict[int, StoredFrame]] = {}  # read once by restore()
        self.log = BatchLog(on_error=self._log_failed)

    @classmethod
    def restore(cls, stored: StoredBatch, store: BatchStore | None, options: RunOptions | None = None,
                executor: Executor | None = None) -> Batch:
        """A stored batch shown as it was (an interrupted one CANCELLED and ``resumable``, each
        job with the frames it recorded); ``start()`` resumes it: unfinished jobs render only
        their missing frames."""
        recipe = parse_recipe(stored.recipe_json, base_dir=stored.base_dir or None)
        batch = cls(recipe, options, executor, store)
        batch._resume_of = stored
        batch._resumable = stored.interrupted
        batch._status = BatchStatus.CANCELLED if stored.interrupted else stored.status
        batch._started, batch._finished = stored.started, stored.finished
        batch._messages = list(stored.messages)
        for saved in stored.jobs:
            if not 0 <= saved.job_id < len(batch._jobs):
                continue
            record = batch._jobs[saved.job_id]
            record.status, record.started, record.finished = saved.status, saved.started, saved.finished
            record.messages, record.attempts = list(saved.messages), saved.attempts
            record.handle = saved.handle
            if saved.status is JobStatus.RUNNING:  # its Render+ died under it
                record.status = JobStatus.CANCELLED
                record.add_message("Interrupted: Render+ stopped while this job rendered; "
                                   "resume renders its missing frames")
        batch._show_recorded_frames(stored)
        return batch

    def _show_recorded_frames(self, stored: StoredBatch) -> None:
        """A restored job shows the frames its run recorded: its done count, its outputs (the
        panel's and the dashboard's thumbnails) and its progress, as the batch stood."""
        store = self._recorder.store
        if store is None:
            return
        for saved in stored.jobs:
            if not 0 <= saved.job_id < len(self._jobs):
                continue
            if not saved.frames_done:
                self._recorded[saved.job_id] = {}  # no frame recorded: nothing to ask the store
                continue
            try:
                recorded = self._recorded[saved.job_id] = store.frames(stored.id, saved.job_id)
            except StoreError as exc:  # a resume asks again, and fails the same way
                self._add_batch_message(f"Job {saved.job_id}'s recorded frames could not be read: {exc}")
                continue
            record = self._jobs[saved.job_id]
            record.done = {frame: [f.path for f in item.files] for frame, item in recorded.items()}
            record.progress = JobProgress(frames=record.job.frames, engine=record.job.engine)
            self._count_done_frames(record)

    @property
    def resumed_id(self) -> int | None:
        """The store id of the batch this one was restored from (None for a new batch)."""
        return self._resume_of.id if self._resume_of is not None else None

    @property
    def store_id(self) -> int | None:
        """The batch's id in the durable store (None without a store)."""
        return self._recorder.batch_id

    @property
    def blender_bin(self) -> str:
        """The batch's Blender (a job may name its own: ``blender_for``)."""
        return choose_blender(self.recipe, self.options.blender_bin)

    def blender_for(self, job_id: int) -> str:
        return choose_blender(self.recipe, self.options.blender_bin, self.recipe.jobs[job_id])

    def handle(self, job_id: int) -> JobHandle | None:
        """The durable handle of the job's current (or last) run, or None before it started."""
        with self._lock:
            return self._jobs[job_id].handle

    # ---------------------------------------------------------------- commands

    def start(self) -> None:
        """Run (or resume) the batch in a daemon thread and return at once."""
        with self._lock:
            resumable = self._resume_of is not None and not self._done.is_set()
            if self._thread is not None or (self._status is not BatchStatus.WAITING and not resumable):
                raise RuntimeError("this batch was already started")
            self._status = BatchStatus.RUNNING  # visible as running before the thread starts
            self._thread = threading.Thread(target=self.run, name="renderplus-batch", daemon=True)
        self._thread.start()

    def cancel(self) -> bool:
        """Cancel the batch (and a power-off still pending after it); False if nothing to cancel."""
        with self._lock:
            running = self._status is BatchStatus.RUNNING
            if running:
                self._cancel_batch.set()
            active = list(self._active)
        if running:
            self._hooks.stop()
            for job_id in active:
                self.executor.cancel(job_id, self.options.kill_grace)
            return True
        watchers = self._watchers
        return watchers is not None and watchers.cancel_poweroff()

    def cancel_job(self, job_id: int) -> bool:
        """Cancel one job: a running one ends (the batch goes on), a queued one is CANCELLED.
        False when the batch does not run or the job has already ended."""
        with self._lock:
            if self._status is not BatchStatus.RUNNING or not 0 <= job_id < len(self._jobs):
                return False
            record = self._jobs[job_id]
            if record.status is JobStatus.QUEUED and job_id not in self._active:
                self._set_status(record, JobStatus.CANCELLED, "Cancelled before it started")
                return True
            if job_id in self._active and not record.cancel_requested:  # even queued on a farm
                record.cancel_requested = True
                self.executor.cancel(job_id, self.options.kill_grace)
                return True
            if record.status is not JobStatus.RUNNING or record.cancel_requested:
                return record.status is JobStatus.RUNNING
            record.cancel_requested = True
            in_hook = self._hook_job == job_id
        if in_hook:
            self._hooks.stop()
        self.executor.cancel(job_id, self.options.kill_grace)
        return True

    def cancel_current_job(self) -> bool:
        """Cancel the job that is rendering (the lowest running one); the batch goes on."""
        current = self._current
        return current is not None and self.cancel_job(current)

    @property
    def poweroff_pending(self) -> bool:
        watchers = self._watchers
        return watchers is not None and watchers.poweroff_pending

    def wait_poweroff(self, timeout: float | None = None) -> bool:
        """Block until a pending power action ran or was called off (a CLI about to exit)."""
        watchers = self._watchers
        return True if watchers is None else watchers.wait_poweroff(timeout)

    def report(self, message: str) -> None:
        """Add a batch message (hooks, notifications, power-off report through this)."""
        self._add_batch_message(message)
        self.log.write(f"[message] {message}")
        log.info("%s", message)
        self._recorder.batch(messages=list(self._messages))
        self._changed()

    # ---------------------------------------------------------------- the run

    def run(self) -> BatchStatus:
        """Run every enabled job in order in this thread; returns the final status."""
        with self._lock:
            resuming = self._resume_of is not None
            if self._done.is_set() or (self._thread is None and self._status is not BatchStatus.WAITING
                                       and not resuming):
                raise RuntimeError("this batch was already run")
            self._status = BatchStatus.RUNNING
            self._resumable = False
            if self._started is None or not resuming:
                self._started = time.time()
            self._finished = None
        remove_stale_temp_dirs()
        self._open_log()
        self._begin_record()
        self._watchers = BatchWatchers(self.recipe, self.report,
                                       power_runner=self.options.power_runner,
                                       poweroff_grace=self.options.poweroff_grace,
                                       on_change=self._changed)
        self._poweroff = lambda: self._watchers.poweroff_state if self._watchers else None
        self._changed(job_state_changed=True)
        try:
            self._run_batch_hooks("PRE_BATCH")
            self._run_jobs()
            if not self._cancel_batch.is_set():
                self._run_batch_hooks("POST_BATCH")
        except Exception as exc:  # a bug must not leave a batch RUNNING forever
            log.exception("batch crashed")
            self.report(f"Internal error, batch stopped: {exc!r}")
            self._cancel_batch.set()
            self.executor.close()
            for record in self._jobs:
                if record.status in (JobStatus.QUEUED, JobStatus.RUNNING):
                    self._set_status(record, JobStatus.CANCELLED)
        finally:
            self._finish()
        return self._status

    def _begin_record(self) -> None:
        """Create the batch in the store, or take over the stored one being resumed."""
        stored = self._resume_of
        if stored is None:
            self._recorder.create(self.recipe, [r.status for r in self._jobs])
        else:
            self._recorder.attach(stored.id)
            for record in self._jobs:
                if record.status in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.RUNNING,
                                     JobStatus.QUEUED):
                    self._prepare_resume(record, stored)
            self.report("Resumed: only missing or unverified frames render again")
        self._recorder.batch(status=BatchStatus.RUNNING, started=self._started, finished=None)
        store = self._recorder.store
        if store is not None:
            for record in self._jobs:
                if record.status is not JobStatus.QUEUED:
                    continue  # only a queued job's ETA uses its past render time
                with contextlib.suppress(Exception):
                    past = store.job_history(self.recipe.resolve(record.job.source_file),
                                             record.job.display_name, limit=1,
                                             exclude_batch=self._recorder.batch_id)
                    if past and past[0].rendertime:
                        self._past_rendertime[record.id] = past[0].rendertime

    def _prepare_resume(self, record: JobRecord, stored: StoredBatch) -> None:
        """A job to render again: its verified frames count as done; a movie restarts whole."""
        store = self._recorder.store
        record.status, record.finished, record.cancel_requested = JobStatus.QUEUED, None, False
        if outputs.is_movie(record.job):
            record.add_message("A movie cannot resume mid-file: it renders again from the start")
            self._recorder.forget(record.id)
            return
        if store is None:
            return
        recorded = self._recorded.get(record.id)
        if recorded is None:
            recorded = store.frames(stored.id, record.id)
        stamps = {frame: [outputs.Stamp(f.path, f.size, f.mtime_ns, f.inode) for f in item.files]
                  for frame, item in recorded.items()}
        record.done = outputs.verified_frames(stamps)
        gone = [frame for frame in stamps if frame not in record.done]
        if gone:
            self._recorder.forget(record.id, gone)

    # ---------------------------------------------------------------- hooks

    def _run_batch_hooks(self, phase: str) -> None:
        for hook in self.recipe.hooks.get(phase, []):
            if not hook.enabled or self._cancel_batch.is_set():
                continue
            result = self._hooks.run(phase, hook, self._hook_env(phase, None))
            self._record_hook(phase, None, result)
            if result.returncode != 0 and not result.cancelled:
                self.report(result.failure(phase))

    def _run_job_hooks(self, phase: str, record: JobRecord) -> bool:
        """Run the enabled hooks of ``phase`` in order; False when one failed or was cancelled."""
        with self._lock:
            self._hook_job = record.id
        self._hooks.reset()
        try:
            for hook in record.job.hooks.get(phase, []):
                if not hook.enabled:
                    continue
                if self._cancel_batch.is_set() or record.cancel_requested:
                    return False
                result = self._hooks.run(phase, hook, self._hook_env(phase, record))
                self._record_hook(phase, record.id, result)
                if result.cancelled:
                    return False
                if result.returncode != 0:
                    self._add_job_message(record, result.failure(phase))
                    return False
            return True
        finally:
            with self._lock:
                self._hook_job = None

    def _record_hook(self, phase: str, job_id: int | None, result: HookResult) -> None:
        with self._lock:
            self._hook_results.append(HookRun(phase, job_id, result.cmd, result.returncode,
                                              result.output))
        self._changed()

    def _hook_env(self, phase: str, record: JobRecord | None) -> dict[str, str]:
        return self._environment(hook_environment(phase, self.recipe, record))

    def _environment(self, extra: dict[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.options.env)
        env.update(extra)
        return env

    # ---------------------------------------------------------------- state changes

    def _set_status(self, record: JobRecord, status: JobStatus, message: str | None = None) -> None:
        self._apply_status(record, status, message)
        if message:
            self.log.write(f"[job {record.id}] {message}")
        self._recorder.job(record.id, status=status, started=record.started,
                           finished=record.finished, messages=list(record.messages),
                           attempts=record.attempts, peak_mem_mb=record.peak_mem_mb,
                           rendertime=(record.finished - record.started
                                       if record.finished and record.started else None))
        self._changed(job_state_changed=True)

    def _add_job_message(self, record: JobRecord, message: str) -> None:
        with self._lock:
            record.add_message(message)
        self.log.write(f"[job {record.id}] {message}")
        self._recorder.job(record.id, messages=list(record.messages))
        self._changed()

    def _changed(self, *, job_state_changed: bool = False) -> None:
        super()._changed()
        watchers = self._watchers
        if job_state_changed and watchers is not None:
            watchers.job_changed(self.view())

    # ---------------------------------------------------------------- start and end

    def _finish(self) -> None:
        self.executor.close()  # an idle Blender session ends with its batch
        cancelled = self._cancel_batch.is_set()
        with self._lock:
            self._finished = time.time()
            self._current = None
            self._status = BatchStatus.CANCELLED if cancelled else BatchStatus.FINISHED
            failed = self.failed_jobs
        if failed:
            total = sum(1 for r in self._jobs if r.status is not JobStatus.DISABLED)
            self.report(f"{failed} of {total} job{'s' if total != 1 else ''} failed")
        self._recorder.batch(status=self._status, finished=self._finished, owner=None)
        self._changed(job_state_changed=True)
        self.log.section(f"batch {self._status.value}")
        self.log.write(json.dumps(self.snapshot(), indent=2))
        watchers = self._watchers
        if watchers is not None:
            watchers.batch_ended(self.view())
        self.log.close()
        with self._changes:
            self._done.set()
            self._changes.notify_all()

    def _open_log(self) -> None:
        wanted = self.options.write_log
        if wanted is None:
            wanted = self.recipe.settings.write_log
        if not wanted:
            return
        directory = self._log_dir()
        try:
            self.log = BatchLog.open(directory, on_error=self._log_failed)
        except OSError as exc:
            self.report(f"Cannot write the log in {directory}: {exc.strerror or exc}")
            return
        self.log.section(f"batch {self.recipe.name!r} started")
        self.log.write(self.recipe.to_json(redact=True))

    def _log_failed(self, problem: str) -> None:
        """The log stopped working (a full disk): say so once; the batch goes on without it."""
        self.report(f"The log file stopped: {problem}; the batch goes on without it")

    def _log_line(self, line: str) -> None:
        self.log.write(line)

    def _log_dir(self) -> Path:
        return Path(self.options.log_dir) if self.options.log_dir else state_dir() / "log"

    def _work_dir(self) -> Path:
        return Path(self.options.log_dir) if self.options.log_dir else state_dir()
