"""Runs a batch: what runs next, its hooks, statuses, times, stats and cancel.

*Where and how* a job's Blender runs is the executor's (``executors/``); the runner hands it a
``JobLaunch`` and applies the events it sends back. Threading: ``run()`` works in one thread
(``start()`` makes it a daemon thread), the only one that changes the batch (but for a cancel,
which marks a queued job CANCELLED at once); executors post events from their own threads into
a queue that this thread drains. Every other method may be called from any thread at any time.
State lives behind ``self._lock``; ``revision`` goes up on every change, and ``view()`` builds
one frozen ``BatchView`` per revision (see view.py).

A job FAILS when a PRE_JOB hook fails, its .blend is missing, Blender exits non-zero, or
Blender exits 0 without writing every frame it was asked for (see outcome.py). A failed job
never stops the batch; a cancelled batch marks the jobs it did not reach CANCELLED.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import shutil
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from ..around import BatchWatchers
from . import outcome
from .command import build_argv, format_argv, write_override_config
from .executors import (
    Accepted,
    ExecEvent,
    Executor,
    ExecutorError,
    Exited,
    FramesWritten,
    JobHandle,
    JobLaunch,
    Output,
    ProcessExecutor,
    Started,
)
from .hooks import HookResult, HookRunner
from .jobrecord import JobRecord
from .logfile import DEFAULT_LOG_DIR, BatchLog
from .markers import format_marker
from .options import RunOptions, choose_blender
from .parser import JobProgress
from .paths import job_temp_dir, remove_stale_temp_dirs, state_dir
from .recipe import Recipe
from .slots import SlotPlan, available_memory_mb, memory_wait_reason, plan_slot, slot_count
from .view import (
    BatchStatus,
    BatchView,
    HookRun,
    JobStatus,
    JobView,
    Stats,
    Times,
    batch_progress,
)

log = logging.getLogger("renderplus.batch")

MAX_BATCH_MESSAGES = 200
MAX_ENV_LIST = 32 * 1024   # a longer RENDERPLUS_OUTPUTS goes to hooks as a file only
MAX_HOOK_RESULTS = 500

# The 1.0 names, kept for readers that compare strings.
WAITING, RUNNING, FINISHED, CANCELLED = (BatchStatus.WAITING, BatchStatus.RUNNING,
                                         BatchStatus.FINISHED, BatchStatus.CANCELLED)
QUEUED, DISABLED, FAILED = JobStatus.QUEUED, JobStatus.DISABLED, JobStatus.FAILED


class Batch:
    """One run of a recipe. See the module docstring for the threading rules."""

    def __init__(self, recipe: Recipe, options: RunOptions | None = None,
                 executor: Executor | None = None) -> None:
        self.recipe = recipe
        self.options = options or RunOptions()  # frozen: a batch's options never change
        self.slots = slot_count(recipe)
        self.executor: Executor = executor or ProcessExecutor(self.slots)
        self._free_slots = list(range(self.slots))
        self._slot_of: dict[int, int] = {}
        self._memory_note: int | None = None  # the job whose memory wait was reported
        self._lock = threading.RLock()
        self._changes = threading.Condition(self._lock)
        self._status = BatchStatus.WAITING
        self._started: float | None = None
        self._finished: float | None = None
        self._messages: list[str] = []
        self._messages_dropped = 0
        self._jobs = [JobRecord(job, JobStatus.QUEUED if job.enabled else JobStatus.DISABLED)
                      for job in recipe.jobs]
        self._current: int | None = None
        self._revision = 0
        self._cancel_batch = threading.Event()
        self._events: queue.Queue[ExecEvent] = queue.Queue()
        self._active: dict[int, JobRecord] = {}
        self._hooks = HookRunner(self._log_line, self.options.kill_grace)
        self._hook_job: int | None = None
        self._hook_results: deque[HookRun] = deque(maxlen=MAX_HOOK_RESULTS)
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._view: tuple[tuple[int, int], BatchView] | None = None
        self._watchers: BatchWatchers | None = None
        self.log = BatchLog(on_error=self._log_failed)

    # ---------------------------------------------------------------- public API

    @property
    def status(self) -> BatchStatus:
        return self._status

    @property
    def running(self) -> bool:
        return self._status is BatchStatus.RUNNING

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def failed_jobs(self) -> int:
        return sum(1 for record in self._jobs if record.status is JobStatus.FAILED)

    @property
    def blender_bin(self) -> str:
        """The batch's Blender (a job may name its own: ``blender_for``)."""
        return choose_blender(self.recipe, self.options.blender_bin)

    def blender_for(self, job_id: int) -> str:
        return choose_blender(self.recipe, self.options.blender_bin, self.recipe.jobs[job_id])

    def start(self) -> None:
        """Run the batch in a daemon thread and return at once."""
        with self._lock:
            if self._thread is not None or self._status is not BatchStatus.WAITING:
                raise RuntimeError("this batch was already started")
            self._status = BatchStatus.RUNNING  # visible as running before the thread starts
            self._thread = threading.Thread(target=self.run, name="renderplus-batch", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the batch has ended; False on timeout."""
        return self._done.wait(timeout)

    def wait_change(self, revision: int, timeout: float | None = None) -> int:
        """Block until the revision moves past ``revision`` (or the timeout); the revision."""
        with self._changes:
            self._changes.wait_for(lambda: self._revision != revision or self._done.is_set(),
                                   timeout)
            return self._revision

    def cancel(self) -> bool:
        """Cancel the batch (and a power-off still pending after it); False if nothing to cancel."""
        with self._lock:
            if self._status is BatchStatus.RUNNING:
                self._cancel_batch.set()
                active = list(self._active)
                hook_running = True
            else:
                hook_running = False
        if hook_running:
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
            if record.status is JobStatus.QUEUED:
                self._set_status(record, JobStatus.CANCELLED, "Cancelled before it started")
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

    def view(self) -> BatchView:
        """The batch now, as a frozen view: built once per revision (and per second while
        running, for the ETAs), shared by every reader."""
        with self._lock:
            now = time.time()
            key = (self._revision, int(now) if self._status is BatchStatus.RUNNING else 0)
            cached = self._view
            if cached is not None and cached[0] == key:
                return cached[1]
            view = self._build_view(now)
            self._view = (key, view)
            return view

    def snapshot(self) -> dict[str, Any]:
        """The spec's poll response as a dict (``view().to_json()``)."""
        return self.view().to_json()

    def handle(self, job_id: int) -> JobHandle | None:
        """The durable handle of the job's current (or last) run, or None before it started."""
        with self._lock:
            return self._jobs[job_id].handle

    def job_view(self, job_id: int) -> JobView:
        """One job's view; IndexError when ``job_id`` is out of range."""
        return self.view().job(job_id)

    # ---------------------------------------------------------------- the run

    def run(self) -> BatchStatus:
        """Run every enabled job in order in this thread; returns the final status."""
        with self._lock:
            if self._done.is_set() or (self._thread is None and self._status is not BatchStatus.WAITING):
                raise RuntimeError("this batch was already run")
            self._status = BatchStatus.RUNNING
            self._started = time.time()
        remove_stale_temp_dirs()
        self._open_log()
        self._watchers = BatchWatchers(self.recipe, self.report,
                                       power_runner=self.options.power_runner,
                                       poweroff_grace=self.options.poweroff_grace,
                                       on_change=self._changed)
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

    def report(self, message: str) -> None:
        """Add a batch message (hooks, notifications, power-off report through this)."""
        with self._lock:
            if len(self._messages) < MAX_BATCH_MESSAGES:
                self._messages.append(message)
            else:
                self._messages_dropped += 1
                self._messages[-1] = f"... and {self._messages_dropped} more messages (see the log)"
        self.log.write(f"[message] {message}")
        log.info("%s", message)
        self._changed()

    # ---------------------------------------------------------------- the job loop

    def _run_jobs(self) -> None:
        pending = deque(record for record in self._jobs if record.status is JobStatus.QUEUED)
        while pending or self._active:
            waiting_for_memory = False
            while pending and self.executor.capacity > 0:
                record = pending[0]
                if self._cancel_batch.is_set() or record.status is not JobStatus.QUEUED:
                    pending.popleft()
                    if record.status is JobStatus.QUEUED:
                        self._set_status(record, JobStatus.CANCELLED)
                    continue
                if self._must_wait_for_memory(record):
                    waiting_for_memory = True
                    break
                pending.popleft()
                self._begin_job(record)
            if self._active:
                with contextlib.suppress(queue.Empty):  # then look at the free memory again
                    self._apply(self._events.get(timeout=2.0 if waiting_for_memory else None))
            elif pending and self.executor.capacity <= 0:  # the executor was closed under us
                for record in pending:
                    self._set_status(record, JobStatus.CANCELLED, "Not started: the executor stopped")
                pending.clear()

    def _must_wait_for_memory(self, record: JobRecord) -> bool:
        """True while free memory is too low to start ``record`` beside the running jobs."""
        running = list(self._active)
        floor = self.options.memory_floor_mb
        needed = self.options.memory_needed_mb(record.job) if self.options.memory_needed_mb else 0.0
        reason = memory_wait_reason(needed, floor, running, available_memory_mb())
        if reason is None:
            return False
        if self._memory_note != record.id:
            self._memory_note = record.id
            self.report(f"Job {record.id} ({record.job.display_name}) waits for a running job "
                        f"to end: {reason}")
        return True

    def _begin_job(self, record: JobRecord) -> None:
        """PRE_JOB hooks, checks, then hand the job to the executor (or end it here)."""
        job = record.job
        with self._lock:
            self._current = min([job.id, *self._active])
            record.progress = JobProgress(frames=job.frames, engine=job.engine)
        self._set_status(record, JobStatus.RUNNING)
        self.log.section(f"job {job.id} {job.display_name!r}")
        hooks_ok = self._run_job_hooks("PRE_JOB", record)
        if record.cancel_requested or self._cancel_batch.is_set():
            self._end_job(record, JobStatus.CANCELLED, "Cancelled before rendering")
            return
        if not hooks_ok:
            self._end_job(record, JobStatus.FAILED, "PRE_JOB hook failed: job not rendered")
            return
        source = self.recipe.resolve(job.source_file)
        if not os.path.isfile(source):
            what = "is a folder, not a .blend file" if os.path.isdir(source) else "not found"
            self._end_job(record, JobStatus.FAILED, f"Blend file {what}: {source}")
            return
        try:
            self._submit(record, source)
        except (ExecutorError, OSError) as exc:
            self._end_job(record, JobStatus.FAILED, str(exc))

    def _submit(self, record: JobRecord, source: str) -> None:
        job = record.job
        slot = self._take_slot(job.id)
        record.workdir = job_temp_dir(job.id)
        config = os.path.join(record.workdir, f"renderplus_job{job.id}.json")
        write_override_config(self.recipe, job, config, gpu_index=slot.gpu_index)
        blender = self.blender_for(job.id)
        argv = build_argv(self.recipe, job, blender_bin=blender, config_path=config,
                          threads=slot.threads)
        self.log.write(f"$ {format_argv(argv)}")
        record.outputs_file = os.path.join(record.workdir, "outputs.txt")
        Path(record.outputs_file).touch()
        tmp = record.workdir
        env = self._environment({"TMPDIR": tmp, "TEMP": tmp, "TMP": tmp, **slot.env})
        launch = JobLaunch(job.id, tuple(argv), job.frames, env, record.workdir, source, blender)
        with self._lock:
            self._active[job.id] = record
        try:
            record.handle = self.executor.submit(launch, self._events.put)
        except ExecutorError as exc:
            with self._lock:
                self._active.pop(job.id, None)
            self._release_slot(job.id)
            raise ExecutorError(f"Cannot start Blender ({blender}): {exc}") from exc
        if record.cancel_requested or self._cancel_batch.is_set():
            self.executor.cancel(job.id, self.options.kill_grace)

    def _take_slot(self, job_id: int) -> SlotPlan:
        index = self._free_slots.pop(0) if self._free_slots else 0
        self._slot_of[job_id] = index
        return plan_slot(self.recipe.jobs[job_id], index, self.slots)

    def _release_slot(self, job_id: int) -> None:
        index = self._slot_of.pop(job_id, None)
        if index is not None:
            self._free_slots.append(index)
            self._free_slots.sort()

    def _apply(self, event: ExecEvent) -> None:
        record = self._active.get(event.job_id)
        if record is None:
            return
        if isinstance(event, Output):
            self._on_line(record, event.line)
        elif isinstance(event, FramesWritten):
            paths = list(event.paths)
            for index, frame in enumerate(event.frames):
                path = paths[index] if index < len(paths) else None
                self._on_line(record, format_marker("frame", frame=frame, path=path))
        elif isinstance(event, Started):
            with self._lock:
                record.process_started = event.at
                record.revision += 1
            self._changed()
        elif isinstance(event, Accepted):
            if event.where:
                self._add_job_message(record, event.where)
        elif isinstance(event, Exited):
            self._on_exit(record, event)

    def _on_line(self, record: JobRecord, line: str) -> None:
        self.log.write(line)
        if self.options.debug:
            log.debug("[job %d] %s", record.id, line)
        progress = record.progress
        assert progress is not None
        with self._lock:
            saved_before = _saved_count(progress)
            changed = progress.feed(line)
            if changed:
                record.revision += 1
        if changed:
            if record.outputs_file and _saved_count(progress) > saved_before and progress.saved_files:
                _append_line(record.outputs_file, progress.saved_files[-1])
            self._changed()

    def _on_exit(self, record: JobRecord, event: Exited) -> None:
        with self._lock:
            record.process_exited, record.returncode = event.at, event.returncode
            record.revision += 1
        self.log.write(f"[job {record.id}] Blender exited with code {event.returncode}")
        crash = ""
        if event.returncode != 0 and record.workdir:
            crash = outcome.keep_crash_report(record.workdir, self._work_dir() / "crash-reports",
                                              record.id)
        assert record.progress is not None
        result = outcome.decide(record.progress, len(record.job.frames), event.returncode,
                                cancelled=event.cancelled and (record.cancel_requested
                                                               or self._cancel_batch.is_set()),
                                crash_note=crash)
        message = result.message
        if event.detail and message:
            message = f"{message} ({event.detail})"
        self._end_job(record, result.status, message)

    def _end_job(self, record: JobRecord, status: JobStatus, message: str | None) -> None:
        """Set the final status, run POST_JOB (not for a cancelled job), clean up."""
        self._set_status(record, status, message)
        if status is not JobStatus.CANCELLED and not self._cancel_batch.is_set():
            self._run_job_hooks("POST_JOB", record)
        with self._lock:
            self._active.pop(record.id, None)
            running = [r.id for r in self._jobs if r.status is JobStatus.RUNNING]
            self._current = min(running) if running else None
        self._release_slot(record.id)
        if record.workdir:
            if self.options.cleanup:
                shutil.rmtree(record.workdir, ignore_errors=True)
            else:
                self.log.write(f"[job {record.id}] temp folder kept: {record.workdir}")
        self._changed()

    # ---------------------------------------------------------------- hooks

    def _run_batch_hooks(self, phase: str) -> None:
        for hook in self.recipe.hooks.get(phase, []):
            if not hook.enabled or self._cancel_batch.is_set():
                continue
            result = self._hooks.run(phase, hook, self._hook_env(phase, None))
            self._record_hook(phase, None, result)
            if result.returncode != 0 and not result.cancelled:
                self.report(_hook_failure(phase, result))

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
                    self._add_job_message(record, _hook_failure(phase, result))
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
        extra = {"RENDERPLUS_HOOK": phase, "RENDERPLUS_BATCH": self.recipe.name}
        if record is not None:
            job = record.job
            saved = record.progress.saved_files if record.progress else []
            outputs = os.pathsep.join(saved)
            extra.update({
                "RENDERPLUS_JOB_ID": str(job.id),
                "RENDERPLUS_JOB_NAME": job.display_name,
                "RENDERPLUS_JOB_STATUS": record.status.value,
                "RENDERPLUS_BLEND_FILE": self.recipe.resolve(job.source_file),
                "RENDERPLUS_OUTPUTS": outputs if len(outputs) <= MAX_ENV_LIST else "",
                "RENDERPLUS_OUTPUTS_FILE": record.outputs_file or "",
            })
        return self._environment(extra)

    def _environment(self, extra: dict[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.options.env)
        env.update(extra)
        return env

    # ---------------------------------------------------------------- state and views

    def _set_status(self, record: JobRecord, status: JobStatus, message: str | None = None) -> None:
        with self._lock:
            record.status = status
            now = time.time()
            if status is JobStatus.RUNNING:
                record.started = now
            elif status.ended and record.started is not None:
                record.finished = now
            if message:
                record.add_message(message)
            record.revision += 1
        if message:
            self.log.write(f"[job {record.id}] {message}")
        self._changed(job_state_changed=True)

    def _add_job_message(self, record: JobRecord, message: str) -> None:
        with self._lock:
            record.add_message(message)
        self.log.write(f"[job {record.id}] {message}")
        self._changed()

    def _changed(self, *, job_state_changed: bool = False) -> None:
        with self._changes:
            self._revision += 1
            self._changes.notify_all()
        watchers = self._watchers
        if job_state_changed and watchers is not None:
            watchers.job_changed(self.view())

    def _build_view(self, now: float) -> BatchView:
        jobs = tuple(record.view(now) for record in self._jobs)
        status = self._status
        watchers = self._watchers
        power = watchers.poweroff_state if watchers is not None else None
        return BatchView(
            status=status,
            jobs=jobs,
            name=self.recipe.name,
            times=Times(self._started, self._finished),
            stats=Stats.of(jobs) if status is BatchStatus.FINISHED else Stats(),
            messages=tuple(self._messages),
            current_job=self._current,
            running_jobs=tuple(job.id for job in jobs if job.status is JobStatus.RUNNING),
            progress=batch_progress(jobs),
            eta=self._batch_eta(jobs, now),
            hooks=tuple(self._hook_results),
            poweroff=power,
            revision=self._revision,
        )

    def _batch_eta(self, jobs: tuple[JobView, ...], now: float) -> float | None:
        if self._status is not BatchStatus.RUNNING:
            return None
        durations = [job.times.rendertime for job in jobs
                     if job.status is JobStatus.FINISHED and job.times.rendertime is not None]
        running_left = 0.0
        for job in jobs:
            if job.status is JobStatus.RUNNING and job.eta is not None:
                running_left = max(running_left, job.eta)
                if not durations and job.progress > 0.5 and job.times.started is not None:
                    durations = [(now - job.times.started) * 100.0 / job.progress]
        if not durations:
            return None
        average = sum(durations) / len(durations)
        queued = sum(1 for job in jobs if job.status is JobStatus.QUEUED)
        return round(queued * average / self.slots + running_left, 1)

    # ---------------------------------------------------------------- start and end

    def _finish(self) -> None:
        cancelled = self._cancel_batch.is_set()
        with self._lock:
            self._finished = time.time()
            self._current = None
            self._status = BatchStatus.CANCELLED if cancelled else BatchStatus.FINISHED
            failed = self.failed_jobs
        if failed:
            total = sum(1 for r in self._jobs if r.status is not JobStatus.DISABLED)
            self.report(f"{failed} of {total} job{'s' if total != 1 else ''} failed")
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
        directory = Path(self.options.log_dir) if self.options.log_dir else DEFAULT_LOG_DIR
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

    def _work_dir(self) -> Path:
        return Path(self.options.log_dir) if self.options.log_dir else state_dir()


def _hook_failure(phase: str, result: HookResult) -> str:
    message = f"{phase} hook failed (exit code {result.returncode}): {result.cmd}"
    return message + (f" -> {result.last_line}" if result.last_line else "")


def _saved_count(progress: JobProgress) -> int:
    return int(getattr(progress, "saved_count", len(progress.saved_files)))


def _append_line(path: str, line: str) -> None:
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as stream:
        stream.write(line + "\n")
