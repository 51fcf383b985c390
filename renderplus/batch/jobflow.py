"""The job loop of a batch: start jobs as slots free up, apply the executor's events, verify
and record frames, retry crashes, end jobs.

``JobFlow`` is the middle layer of ``runner.Batch`` (state below it in ``batchstate.py``,
lifecycle, hooks and the store above it in ``runner.py``); everything here runs in the
runner's one thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shutil
import threading
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from . import outcome, outputs
from .batchstate import BatchState
from .command import build_command, format_argv, write_override_config
from .executors import (
    Accepted,
    ExecEvent,
    Executor,
    ExecutorError,
    Exited,
    FramesWritten,
    JobLaunch,
    Output,
    Started,
)
from .jobrecord import JobRecord
from .logfile import BatchLog
from .markers import MARKER_PREFIX, OVERRIDE_EXIT_CODE, format_marker, parse_marker
from .options import RunOptions
from .parser import Event, EventKind, JobProgress
from .paths import TEMP_VARS, job_temp_dir
from .recorder import Recorder
from .slots import SlotPlan, available_memory_mb, memory_wait_reason, plan_slot
from .view import JobStatus

log = logging.getLogger("renderplus.batch")


class JobFlow(BatchState):
    """Runs the jobs of a batch through its executor (see the module docstring)."""

    options: RunOptions
    executor: Executor
    log: BatchLog
    _recorder: Recorder
    _cancel_batch: threading.Event
    _events: queue.Queue[ExecEvent]
    _active: dict[int, JobRecord]
    _free_slots: list[int]
    _slot_of: dict[int, int]
    _memory_note: int | None

    if TYPE_CHECKING:  # provided by the batch (runner.py): hooks, recorded state changes
        def _run_job_hooks(self, phase: str, record: JobRecord) -> bool: ...
        def _set_status(self, record: JobRecord, status: JobStatus,
                        message: str | None = None) -> None: ...
        def _add_job_message(self, record: JobRecord, message: str) -> None: ...
        def _environment(self, extra: dict[str, str]) -> dict[str, str]: ...
        def _work_dir(self) -> Path: ...
        def report(self, message: str) -> None: ...
        def blender_for(self, job_id: int) -> str: ...

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
        if not self._active:
            return False  # an idle batch never waits: no history query, no /proc read
        needed_mb = self.options.memory_needed_mb
        needed = needed_mb(self.recipe.resolve(record.job.source_file),
                           record.job.display_name) if needed_mb else 0.0
        reason = memory_wait_reason(needed, self.options.memory_floor_mb, list(self._active),
                                    available_memory_mb())
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
        if self._skips_existing(job):
            found = outputs.existing_outputs(self.recipe, job, job.frames, os.path.dirname(source))
            for frame, paths in found.items():
                record.done.setdefault(frame, paths)
            if found:
                self._add_job_message(record, f"Skipping {len(found)} existing frame(s)")
        self._count_done_frames(record)
        if record.done and len(record.done) >= len(job.frames):
            self._end_job(record, JobStatus.FINISHED, "Every frame was already rendered")
            return
        try:
            self._submit(record, source)
        except (ExecutorError, OSError) as exc:
            self._end_job(record, JobStatus.FAILED, str(exc))

    def _skips_existing(self, job: object) -> bool:
        return bool(getattr(job, "skip_existing", False) or self.recipe.settings.skip_existing)

    def _count_done_frames(self, record: JobRecord) -> None:
        """Frames done before this run count in the job's progress (as if just written)."""
        progress = record.progress
        assert progress is not None
        with self._lock:
            for frame, paths in sorted(record.done.items()):
                path = paths[0] if paths and paths[0] else None
                progress.apply(Event(EventKind.FRAME_WRITTEN, frame=frame, text=path))
            record.revision += 1

    def _submit(self, record: JobRecord, source: str) -> None:
        job = record.job
        frames = outputs.missing_frames(job.frames, record.done)
        slot = self._take_slot(job.id)
        record.attempts += 1
        record.workdir = job_temp_dir(job.id)
        config = os.path.join(record.workdir, f"renderplus_job{job.id}.json")
        write_override_config(self.recipe, job, config, frames, gpu_index=slot.gpu_index)
        blender = self.blender_for(job.id)
        command = build_command(self.recipe, job, blender_bin=blender, config_path=config,
                                frames=frames, threads=slot.threads)
        self.log.write(f"$ {format_argv(command.argv)}")
        record.outputs_file = os.path.join(record.workdir, "outputs.txt")
        Path(record.outputs_file).write_text("".join(p + "\n" for ps in record.done.values() for p in ps))
        tmp = record.workdir
        env = self._environment({**dict.fromkeys(TEMP_VARS, tmp), **slot.env})
        launch = JobLaunch(job.id, command, env, record.workdir)
        with self._lock:
            self._active[job.id] = record
        try:
            record.handle = self.executor.submit(launch, self._events.put)
        except ExecutorError as exc:
            with self._lock:
                self._active.pop(job.id, None)
            self._release_slot(job.id)
            raise ExecutorError(f"Cannot start Blender ({blender}): {exc}") from exc
        self._recorder.job(job.id, handle=record.handle, attempts=record.attempts)
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
            if record.status is JobStatus.QUEUED:  # it waited in a farm's queue
                self._set_status(record, JobStatus.RUNNING)
            self._changed()
        elif isinstance(event, Accepted):
            if event.where:  # taken, but waiting (a farm queue): QUEUED, saying where
                self._set_status(record, JobStatus.QUEUED, event.where)
        elif isinstance(event, Exited):
            self._on_exit(record, event)

    def _on_line(self, record: JobRecord, line: str) -> None:
        self.log.write(line)
        if self.options.debug:
            log.debug("[job %d] %s", record.id, line)
        progress = record.progress
        assert progress is not None
        with self._lock:
            changed = progress.feed(line)
            if changed:
                record.revision += 1
                record.note_memory(progress.data.get("mem"))
        # A frame marker may change nothing visible (Blender's "Saved:" came first), but it is
        # what names the frame's files: always read it.
        marker = parse_marker(line) if line.startswith(MARKER_PREFIX) else None
        if marker is not None and marker.get("event") == "frame":
            self._on_frame(record, marker)
        if changed:
            self._changed()

    def _on_frame(self, record: JobRecord, marker: dict[str, object]) -> None:
        """A frame was written: verify its files, record them, tell the hooks' outputs file."""
        frame, path = marker.get("frame"), marker.get("path")
        if not isinstance(frame, int) or not isinstance(path, str):
            return
        extra = [p for p in marker.get("files") or [] if isinstance(p, str)]  # type: ignore[attr-defined]
        stamps = self._recorder.frame(record.id, frame, [path, *extra])
        if stamps:
            record.done[frame] = [s.path for s in stamps]
        if extra:
            with self._lock:
                record.add_extra_outputs(extra)
        if record.outputs_file:
            _append_lines(record.outputs_file, [path, *extra])

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
        cancelled = event.cancelled and (record.cancel_requested or self._cancel_batch.is_set())
        result = outcome.decide(record.progress, len(record.job.frames), event.returncode,
                                cancelled=cancelled, crash_note=crash)
        message = result.message
        if event.detail and message:
            message = f"{message} ({event.detail})"
        if result.status is JobStatus.FAILED and self._retryable(record, event):
            self._retry(record, message or "failed")
            return
        self._end_job(record, result.status, message)

    def _retryable(self, record: JobRecord, event: Exited) -> bool:
        """A crash (signal, exit that is no override error, a fatal GPU/memory message) with
        attempts left; never a cancel, an override error or a job ended on a farm by hand."""
        if event.cancelled or event.final or record.cancel_requested or self._cancel_batch.is_set():
            return False
        if event.returncode in (0, OVERRIDE_EXIT_CODE):
            return False
        return record.attempts <= self.recipe.settings.retries

    def _retry(self, record: JobRecord, message: str) -> None:
        left = len(record.job.frames) - len(record.done)
        total = self.recipe.settings.retries + 1
        self._add_job_message(record, f"Attempt {record.attempts} of {total}: {message}; "
                                      f"rendering the {left} missing frame(s) again")
        self._cleanup(record)
        with self._lock:
            self._active.pop(record.id, None)
        self._release_slot(record.id)
        record.progress = JobProgress(frames=record.job.frames, engine=record.job.engine)
        self._count_done_frames(record)
        try:
            self._submit(record, self.recipe.resolve(record.job.source_file))
        except (ExecutorError, OSError) as exc:
            self._end_job(record, JobStatus.FAILED, str(exc))

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
        self._cleanup(record)
        self._changed()

    def _cleanup(self, record: JobRecord) -> None:
        if record.workdir:
            if self.options.cleanup:
                shutil.rmtree(record.workdir, ignore_errors=True)
            else:
                self.log.write(f"[job {record.id}] temp folder kept: {record.workdir}")
            record.workdir = None



def _append_lines(path: str, lines: list[str]) -> None:
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as stream:
        stream.write("".join(line + "\n" for line in lines))
