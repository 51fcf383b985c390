"""The job loop of a batch: start jobs as slots free up, apply the executors' events, verify
and store frames, retry crashes, end jobs.

``JobLoop`` is given what it uses: the batch's state, the order its jobs start in (a
``RunOrder``: data, which the queue will change), the executor choice (which executor runs
each job), the store writer, the hooks and ``BatchChanges`` (its status setter). Everything here
runs in the batch's one thread, but ``cancel_job``, ``cancel_running`` and ``pause_running``
(any thread). While a pause is under way (``state.pause``) no job starts, and ``run`` returns
once the running jobs have ended or stopped; a job stopped for the pause is QUEUED again at the
front of the order, its frames kept, not retried, without its POST_JOB hook.
A job that waits for others (``after``, ``dependencies``) keeps its place in the order while the
jobs behind it start, and ends FAILED without running when one of them cannot finish.
Executors post events from their own threads into an ``EventQueue`` this thread drains
(``eventqueue``: never blocking, bounded by folding superseded progress lines).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import dependencies, outcome, outputs
from .batch_hooks import BatchHooks
from .batchstate import BatchState
from .blender_pick import pick_blender
from .changes import BatchChanges
from .command import build_command, format_argv, write_override_config
from .encode import ENCODE_EVENTS
from .encode.step import MovieEnded
from .eventqueue import EventQueue, QueuedEvent
from .executor_choice import ExecutorChoice
from .executors import (
    Accepted,
    Executor,
    ExecutorError,
    Exited,
    FramesWritten,
    JobLaunch,
    Output,
    Started,
)
from .exit_status import ExitStatus
from .frame_checker import (
    MOVIE_EXTENSIONS,
    CheckRequest,
    FrameChecked,
    FrameChecks,
    JobChecks,
    named,
    set_aside_invalid,
)
from .frame_previews import FramePreviews
from .frame_written import record_frame
from .job_movies import JobMovies
from .jobstate import JobState
from .markers import MARKER_PREFIX, format_marker, parse_marker
from .options import RunOptions, child_environment, choose_blender
from .order import RunOrder
from .parser import JobProgress
from .paths import TEMP_VARS, job_temp_dir
from .pause import STOP_FILE_VAR, put_back_index, stop_file
from .run_record import RunRecorder
from .runlog import work_dir
from .slots import MemoryGate, SlotPool
from .store import StoreWriter
from .view import BatchStatus, JobStatus

log = logging.getLogger("renderplus.batch")
DECODED_WHOLE_FORMATS = ("PNG", "OPEN_EXR", "OPEN_EXR_MULTILAYER")


class JobLoop:
    """Runs the jobs of a batch, in its run order, on the executors chosen for them."""

    def __init__(self, state: BatchState, order: RunOrder, executors: ExecutorChoice,
                 store: StoreWriter, hooks: BatchHooks, changes: BatchChanges,
                 options: RunOptions) -> None:
        self.state = state
        self.order = order
        self.executors = executors
        self.store = store
        self.hooks = hooks
        self.changes = changes
        self.options = options
        self.recipe = state.recipe
        self.log = changes.log
        self._events = EventQueue()
        self._active: dict[int, JobState] = {}
        self._running_on: dict[int, Executor] = {}     # each active job's executor
        self._slots = SlotPool(self.recipe, state.slots)
        self._memory = MemoryGate(self.recipe, options.memory_needed_mb, options.memory_floor_mb,
                                  changes.report)
        self._held: set[int] = set()                   # jobs a pause put back in the order
        self._told_waiting: set[int] = set()           # jobs whose "Waiting for job N" was said
        self.previews = FramePreviews(self.log.write, child_environment(options, {}))
        self.runs = RunRecorder(self.recipe, store, state.lock)  # each run's timing and history
        self._run_frames: dict[int, int] = {}          # frames each running Blender renders
        self.movies = JobMovies(state, changes, options, self._events.put, self._blender_path)
        self.checks = FrameChecks(self._events.put, child_environment(options, {}))
        self._checks: dict[int, JobChecks] = {}        # each running job's frames being checked

    def run(self) -> None:
        """Start jobs in the run order while their executors take them; return when every job
        has ended (or, cancelled, was marked CANCELLED), or, pausing, the running ones have."""
        self._held.clear()
        while not self._ended():
            waiting_for_memory = False
            while not self._pausing and (job_id := self._next_job()) is not None:
                job = self.state.jobs[job_id]
                executor = self.executors.for_job(job.job)
                capacity = self._room(executor)  # read before the queued ends: see _submit
                if (capacity <= 0 or self._events.has_end()) and self._active:
                    break  # it takes the job once a running one's end has been handled
                if capacity <= 0:
                    self.order.remove(job_id)  # the executor was closed under us
                    self.changes.set_status(job, JobStatus.CANCELLED,
                                            "Not started: the executor stopped")
                    continue
                if self.state.cancel_asked.is_set() or job.status is not JobStatus.QUEUED:
                    self.order.remove(job_id)
                    if job.status is JobStatus.QUEUED:
                        self.changes.set_status(job, JobStatus.CANCELLED)
                    continue
                if self._memory.must_wait(job.job, list(self._active)):
                    waiting_for_memory = True
                    break
                if self._take(job):
                    self._begin_job(job, executor)
            self.movies.pump(self._end_after_movie, self._put_back, self._stops_for_pause())
            if self._active or self.movies.pending():
                # queue.Empty: the free memory to look at again, or a job added (wake)
                with contextlib.suppress(queue.Empty):
                    self._apply(self._events.get(timeout=2.0 if waiting_for_memory else None))
        self.checks.close(drop_waiting=self.state.cancel_asked.is_set())  # its helper Blenders end

    @property
    def _pausing(self) -> bool:
        """A pause is under way (a cancel beside it wins: its queued jobs end CANCELLED)."""
        return self.state.pause is not None and not self.state.cancel_asked.is_set()

    def _stops_for_pause(self) -> bool:  # running jobs stop too (now, frame)
        return self._pausing and self.state.pause is not None and self.state.pause.stops_jobs

    def _ended(self) -> bool:
        """Nothing left to start (or a pause under way) and nothing running: the loop ends. A
        batch that is not pausing takes no more jobs then (sealed in the same step, so an edit
        either lands before or is refused); a paused one still does."""
        with self.state.lock:
            if self._active or self.movies.pending() or (len(self.order) and not self._pausing):
                return False
            if not self._pausing:
                self.state.sealed = True
            return True

    def _take(self, job: JobState) -> bool:
        """Take the next job off the order to start it, unless an edit disabled or moved it
        since the loop looked (the edits change the order under the same lock)."""
        with self.state.lock:
            return job.status is JobStatus.QUEUED and self._pick().job_id == job.id \
                and self.order.remove(job.id)

    def _next_job(self) -> int | None:
        """The first job of the run order that waits for no other (``dependencies``; None when
        every one waits): a job passed over says once what it waits for; one whose dependency
        failed, was cancelled or is disabled ends FAILED on the way, and nothing of it runs."""
        while True:
            with self.state.lock:
                if self.state.cancel_asked.is_set():
                    return self.order.peek()   # every queued job ends CANCELLED
                pick = self._pick()
            for job_id, waiting_for in pick.waiting:
                if job_id not in self._told_waiting:
                    self._told_waiting.add(job_id)
                    self.changes.job_message(self.state.jobs[job_id],
                                             dependencies.waiting_sentence(waiting_for, self._name))
            if pick.failed is None:
                return pick.job_id
            job_id, reason = pick.failed
            job = self.state.jobs[job_id]
            with self.state.lock:
                taken = job.status is JobStatus.QUEUED and self.order.remove(job_id)
            if taken:
                self.changes.set_status(job, JobStatus.FAILED, reason)

    def _pick(self) -> dependencies.Pick:
        """``dependencies.first_startable`` over the run order (under the state's lock); the
        order's head at once when it waits for no job (no copy of a long order per event)."""
        jobs = self.state.jobs
        head = self.order.peek()
        if head is None or jobs[head].status is not JobStatus.QUEUED or not jobs[head].job.after:
            return dependencies.Pick(head)

        def check(job_id: int) -> dependencies.Readiness | None:
            job = jobs[job_id]
            if job.status is not JobStatus.QUEUED or not job.job.after:
                return None
            return dependencies.readiness(job.job.after, lambda i: jobs[i].status, self._name,
                                          can_run=self._can_run)
        return dependencies.first_startable(self.order, check)

    def _name(self, job_id: int) -> str:
        return self.state.jobs[job_id].job.display_name

    def _can_run(self, job_id: int) -> bool:
        """A job that has not ended may still finish: it runs, makes its movie or is queued."""
        return job_id in self._active or job_id in self.movies.jobs or job_id in self.order

    def _room(self, executor: Executor) -> int:
        """How many jobs ``executor`` takes now, within the batch's slots where the executors
        are this machine's (a session and a process per job share them)."""
        capacity = executor.capacity - self._ends_waiting_for_checks(executor)
        limit = self.executors.limit
        return capacity if limit is None else min(capacity, limit - len(self._active))

    def wake(self) -> None:
        """A job was added or enabled: look at the order now, not at the next event (any thread)."""
        self._events.wake()


    # ---------------------------------------------------------------- cancel, pause (any thread)

    def pause_running(self, when: str) -> None:
        """Ask every active job's executor to stop it for a pause (``now`` or ``frame``)."""
        with self.state.lock:
            active = list(self._running_on.items())
        for job_id, executor in active:
            executor.pause(job_id, when, self.options.kill_grace)
        self.movies.stop_all("pause")
        self._events.wake()

    def cancel_running(self) -> None:
        """Ask every active job's executor to end it (the batch is being cancelled)."""
        with self.state.lock:
            active = list(self._running_on.items())
        for job_id, executor in active:
            executor.cancel(job_id, self.options.kill_grace)
        self.movies.stop_all("cancel")
        self._events.wake()

    def cancel_job(self, job_id: int) -> bool:
        """Cancel one job: a running one ends (the batch goes on), a queued one is CANCELLED.
        False when the batch does not run or the job has already ended."""
        movie = False
        with self.state.lock:
            if self.state.status is not BatchStatus.RUNNING or not 0 <= job_id < len(self.state.jobs):
                return False
            job = self.state.jobs[job_id]
            if job_id in self.movies.jobs:
                movie = True
            elif job.status is JobStatus.QUEUED and job_id not in self._active:
                self.changes.set_status(job, JobStatus.CANCELLED, "Cancelled before it started")
                return True
            executor = self._running_on.get(job_id)
            submitted = executor is not None and not job.cancel_requested  # even queued on a farm
            in_hook = False
            if not submitted:
                if job.status is not JobStatus.RUNNING or job.cancel_requested:
                    return job.status is JobStatus.RUNNING
                in_hook = self.hooks.runs_for(job_id)  # else in PRE_JOB: _submit checks the flag
            job.cancel_requested = True
        if movie:  # frames done, its movie waits or is being made
            self.movies.cancel(job_id)
            self._events.wake()
            return True
        # Outside the lock: a farm's cancel asks its scheduler, and polls must not wait for it.
        if submitted and executor is not None:
            executor.cancel(job_id, self.options.kill_grace)
        elif in_hook:
            self.hooks.stop()
        return True

    # ---------------------------------------------------------------- starting a job

    def _begin_job(self, job: JobState, executor: Executor) -> None:
        """PRE_JOB hooks, checks, then hand the job to its executor (or end it here)."""
        spec = job.job
        with self.state.lock:
            self.state.current = min([spec.id, *self._active])
            job.progress = JobProgress(frames=spec.frames, engine=spec.engine)
        self.changes.set_status(job, JobStatus.RUNNING)
        self.log.section(f"job {spec.id} {spec.display_name!r}")
        hooks_ok = self.hooks.run_job("PRE_JOB", job)
        if job.cancel_requested or self.state.cancel_asked.is_set():
            self._end_job(job, JobStatus.CANCELLED, "Cancelled before rendering")
            return
        if not hooks_ok:
            self._end_job(job, JobStatus.FAILED, "PRE_JOB hook failed: job not rendered")
            return
        if self._stops_for_pause():
            self._put_back(job, "Paused before rendering")
            return
        source = self.recipe.resolve(spec.source_file)
        if not os.path.isfile(source):
            what = "is a folder, not a .blend file" if os.path.isdir(source) else "not found"
            self._end_job(job, JobStatus.FAILED, f"Blend file {what}: {source}")
            return
        if not self._pick_blender(job):
            return
        if spec.skip_existing or self.recipe.settings.skip_existing:
            found = outputs.existing_outputs(self.recipe, spec, spec.frames, os.path.dirname(source))
            for frame, paths in found.items():
                job.done.setdefault(frame, paths)
            if found:
                self.changes.job_message(job, f"Skipping {len(found)} existing frame(s)")
        with self.state.lock:
            job.count_done_frames()
        if job.done and len(job.done) >= len(spec.frames):
            self._end_job(job, JobStatus.FINISHED, "Every frame was already rendered")
            return
        try:
            self._submit(job, executor)
        except (ExecutorError, OSError) as exc:
            self._end_job(job, JobStatus.FAILED, str(exc))

    def _pick_blender(self, job: JobState) -> bool:
        """Which Blender renders ``job`` ("auto": the one fitting its file); False when none
        can, and the job has failed saying why."""
        pick = pick_blender(self.recipe, self.options.blender_bin, job.job, candidates=self.options.blenders)
        if pick.problem:
            self._end_job(job, JobStatus.FAILED, pick.problem)
            return False
        for warning in pick.warnings:
            self.changes.job_message(job, warning)
        with self.state.lock:
            job.blender = pick
            job.revision += 1
        self.state.changed()
        return True

    def _submit(self, job: JobState, executor: Executor) -> None:
        spec = job.job
        frames = outputs.missing_frames(spec.frames, job.done)
        self._run_frames[spec.id] = len(frames)
        slot = self._slots.take(spec.id)
        job.attempts += 1
        job.workdir = job_temp_dir(spec.id)
        config = os.path.join(job.workdir, f"renderplus_job{spec.id}.json")
        write_override_config(self.recipe, spec, config, frames, gpu_index=slot.gpu_index)
        blender = job.blender.path if job.blender else self._blender(job)
        command = build_command(self.recipe, spec, blender_bin=blender, config_path=config,
                                frames=frames, threads=slot.threads)
        self.log.write(f"$ {format_argv(command.argv)}")
        job.outputs_file = os.path.join(job.workdir, "outputs.txt")
        Path(job.outputs_file).write_text("".join(p + "\n" for ps in job.done.values() for p in ps))
        tmp = job.workdir
        env = child_environment(self.options, {**dict.fromkeys(TEMP_VARS, tmp), **slot.env,
                                               STOP_FILE_VAR: stop_file(tmp)})
        launch = JobLaunch(spec.id, command, env, job.workdir)
        with self.state.lock:
            self._active[spec.id] = job
            self._running_on[spec.id] = executor
        try:
            # An executor frees a job's place and posts its Exited as one step, so a place read free
            # (capacity) before the queue was asked for ends has its end seen there: the loop
            # starts no job while an end waits, and job n's last frame, status and POST_JOB
            # hooks come before job n+1's PRE_JOB hooks.
            job.handle = executor.submit(launch, self._events.put)
        except ExecutorError as exc:
            with self.state.lock:
                self._active.pop(spec.id, None)
                self._running_on.pop(spec.id, None)
            self._slots.release(spec.id)
            raise ExecutorError(f"Cannot start Blender ({blender}): {exc}") from exc
        self.store.job(spec.id, handle=job.handle, attempts=job.attempts)
        if job.cancel_requested or self.state.cancel_asked.is_set():
            executor.cancel(spec.id, self.options.kill_grace)
        elif self._stops_for_pause() and (pause := self.state.pause) is not None:
            executor.pause(spec.id, pause.when, self.options.kill_grace)  # asked while starting

    # ---------------------------------------------------------------- the executors' events

    def _apply(self, event: QueuedEvent) -> None:
        if isinstance(event, FrameChecked):
            self._on_checked(event)
            return
        if isinstance(event, MovieEnded):
            self.movies.ended(event, self._end_after_movie, self._put_back)
            return
        making = self.movies.jobs.get(event.job_id)
        if making is not None:   # its encode's lines: the log and the movie's markers
            if isinstance(event, Output):
                self._on_movie_line(making, event.line)
            return
        job = self._active.get(event.job_id)
        if job is None:
            return
        if isinstance(event, Output):
            self._on_line(job, event.line)
        elif isinstance(event, FramesWritten):
            paths = list(event.paths)
            for index, frame in enumerate(event.frames):
                path = paths[index] if index < len(paths) else None
                self._on_line(job, format_marker("frame", frame=frame, path=path))
        elif isinstance(event, Started):
            with self.state.lock:
                job.process_started = event.at
                job.timing = self.runs.started(job.id, event.at)
                job.revision += 1
            if job.status is JobStatus.QUEUED:  # it waited in a farm's queue
                self.changes.set_status(job, JobStatus.RUNNING)
            if self._reads_back(job):
                self.checks.warm(self._blender_path(job))   # ready before its first frame
            self.state.changed()
        elif isinstance(event, Accepted):
            if event.where:  # taken, but waiting (a farm queue): QUEUED, saying where
                self.changes.set_status(job, JobStatus.QUEUED, event.where)
        elif isinstance(event, Exited):
            self._on_exited(job, event)

    def _on_line(self, job: JobState, line: str) -> None:
        self.log.write(line)
        if self.options.debug:
            log.debug("[job %d] %s", job.id, line)
        progress = job.progress
        assert progress is not None
        with self.state.lock:
            changed = progress.feed(line)
            if changed:
                job.revision += 1
                job.note_memory(progress.data.get("mem"))
        # A frame marker may change nothing visible (Blender's "Saved:" came first), but it is
        # what names the frame's files: always read it.
        marker = parse_marker(line) if line.startswith(MARKER_PREFIX) else None
        if marker is not None and marker.get("event") in ("ready", "frame"):
            self.runs.marker(job.id, marker, self._run_frames.get(job.id, 0))
        if marker is not None and marker.get("event") in ENCODE_EVENTS:
            self.movies.on_marker(job, marker)   # a farm's last step made the movie
        if marker is not None and marker.get("event") == "frame":
            self._check_frame(job, marker)
        if marker is not None and marker.get("event") == "frame_checked":
            self._node_checked(job, marker)
        if changed:
            self.state.changed()

    # ---------------------------------------------------------------- frames checked whole

    def _check_frame(self, job: JobState, marker: Mapping[str, Any]) -> None:
        """A frame written: checked off this thread (``frame_checker``); it counts as done
        (stored, listed for the hooks, previewed) once its ``FrameChecked`` says it is whole."""
        frame, path = marker.get("frame"), marker.get("path")
        if not isinstance(frame, int) or not isinstance(path, str):
            return
        if outputs.is_movie(job.job) or path.lower().endswith(MOVIE_EXTENSIONS):
            record_frame(job, marker, self.store, self.state.lock,   # a movie grows frame by
                         lambda path, look: self._ask_preview(job, path, look))  # frame: no check
            return
        files = marker.get("files")
        extra = [p for p in files if isinstance(p, str)] if isinstance(files, list) else []
        checks = self._checks.setdefault(job.id, JobChecks())
        checks.markers[frame] = marker
        checks.paths.update([path, *extra])
        if getattr(self._running_on.get(job.id), "checks_frames", False):
            checks.on_node[frame] = {path, *extra}   # its task checks it on the node
            return
        self._ask_check(job, frame, (path, *extra))

    def _ask_check(self, job: JobState, frame: int, paths: tuple[str, ...]) -> None:
        validate = self.recipe.settings.validate
        self.checks.ask(CheckRequest(job.id, frame, paths, self._blender_path(job),
                                     decode=validate is not None and validate.decode,
                                     black=validate is not None and validate.black))

    def _node_checked(self, job: JobState, marker: Mapping[str, Any]) -> None:
        """A farm node's verdict on one file of a frame its task wrote (``check_frames.py``
        after the task's Blender; a frame's File Output files come before its image): the
        frame's ``FrameChecked`` once every file of it known here passed, or at the first file
        of it that did not."""
        path, problem, frame = marker.get("path"), marker.get("problem"), marker.get("frame")
        checks = self._checks.get(job.id)
        if checks is None or not isinstance(path, str):
            return
        if not (isinstance(frame, int) and frame in checks.on_node):
            frame = next((f for f, left in checks.on_node.items() if path in left), None)
        if frame is None:
            return
        left = checks.on_node[frame]
        left.discard(path)
        if problem is None and left:
            return
        del checks.on_node[frame]
        marker_of = checks.markers.get(frame, {})
        paths = tuple(p for p in [marker_of.get("path"), *(marker_of.get("files") or [])]
                      if isinstance(p, str))
        self._on_checked(FrameChecked(job.id, frame, paths or (path,),
                                      named(path, str(problem)) if problem else None))

    def _ends_waiting_for_checks(self, executor: Executor) -> int:
        """Jobs of ``executor`` whose Blender exited and whose end waits for their frames'
        checks: their places are free in the executor already, but, like an end still in the
        queue, each is handled before another job takes its place (job n's end comes before job
        n+1's PRE_JOB hooks)."""
        return sum(1 for job_id, checks in self._checks.items()
                   if checks.exited is not None and self._running_on.get(job_id) is executor)

    def _reads_back(self, job: JobState) -> bool:
        """Whether the job's frames will likely be decoded by the frame reader (``validate``): a
        PNG's and a ZIP EXR's data the structural check reads whole (an EXR in another codec
        starts the reader at its first frame)."""
        validate = self.recipe.settings.validate
        if getattr(self._running_on.get(job.id), "checks_frames", False):
            return False   # its frames are checked on the farm's nodes
        return validate is not None and (validate.black or (
            validate.decode and job.job.format.upper() not in DECODED_WHOLE_FORMATS))

    def _on_checked(self, event: FrameChecked) -> None:
        if event.note:
            self.changes.report(event.note)
        job = self._active.get(event.job_id)
        checks = self._checks.get(event.job_id)
        if job is None or checks is None or event.frame not in checks.markers:
            return   # dropped (a cancel) or no longer running
        marker = checks.markers.pop(event.frame)
        unwritten = job.progress.unwritten if job.progress is not None else {}
        if event.problem is None:
            record_frame(job, marker, self.store, self.state.lock,
                         lambda path, look: self._ask_preview(job, path, look))
        elif any(path in unwritten for path in event.paths):
            # Blender said it could not write it (a full disk): the job's end names that cause,
            # which the check cannot, and sets the file aside as .partial (outcome)
            pass
        else:
            times = checks.failed[event.frame] = checks.failed.get(event.frame, 0) + 1
            checks.problems[event.frame] = event.problem
            kept = set_aside_invalid(event.paths)
            where = f" (kept as {', '.join(kept)})" if kept else ""
            then = "it renders once more" if times < 2 else "it failed twice: the job fails"
            self.changes.job_message(job, f"Frame {event.frame} failed its check: "
                                          f"{event.problem}{where}; {then}")
        if not checks.pending and checks.exited is not None:
            exited, checks.exited = checks.exited, None
            self._on_exit(job, exited)

    def _on_movie_line(self, job: JobState, line: str) -> None:
        self.log.write(line)
        marker = parse_marker(line) if line.startswith(MARKER_PREFIX) else None
        if marker is not None:
            self.movies.on_marker(job, marker)

    def _ask_preview(self, job: JobState, path: str, look: Mapping[str, Any]) -> None:
        """By the frame reader of the Blender that rendered it (frame_previews)."""
        self.previews.ask(path, job.blender.path if job.blender else self._blender(job), look)

    def _blender_path(self, job: JobState) -> str:
        """The Blender that rendered ``job``: its movie's colours are that version's."""
        return job.blender.path if job.blender else self._blender(job)

    def _blender(self, job: JobState) -> str:
        options = self.options
        return choose_blender(self.recipe, options.blender_bin, job.job, candidates=options.blenders)

    def _on_exited(self, job: JobState, event: Exited) -> None:
        """Its Blender exited: the job ends once every frame's check has answered (a cancel
        drops the pending checks instead)."""
        checks = self._checks.get(job.id)
        cancelled = event.cancelled and (job.cancel_requested or self.state.cancel_asked.is_set())
        if checks is not None and checks.on_node:
            if not cancelled:   # frames the node did not judge (no check there): judged here
                for frame, left in sorted(checks.on_node.items()):
                    self._ask_check(job, frame, tuple(sorted(left)))
            checks.on_node.clear()
        if checks is not None and checks.pending:
            if not cancelled:
                checks.exited = event
                return
            checks.markers.clear()
        self._on_exit(job, event)

    def _on_exit(self, job: JobState, event: Exited) -> None:
        with self.state.lock:
            job.process_exited, job.returncode = event.at, event.returncode
            job.revision += 1
        status = ExitStatus.of(event.returncode)
        said = f" ({status.describe()})" if status.signal is not None else ""
        self.log.write(f"[job {job.id}] Blender exited with code {event.returncode}{said}")
        folded = self._events.take_dropped(job.id)
        if folded:
            self.log.write(f"[job {job.id}] {folded} output line(s) were not read: Blender printed "
                           "faster than Render+ read, and newer lines superseded them")
        crash = ""
        if event.returncode != 0 and job.workdir:
            crash = outcome.keep_crash_report(job.workdir, work_dir(self.options) / "crash-reports",
                                              job.id)
        assert job.progress is not None
        cancelled = event.cancelled and (job.cancel_requested or self.state.cancel_asked.is_set())
        checks = self._checks.get(job.id)
        result = outcome.decide(job.progress, len(job.job.frames), event.returncode,
                                cancelled=cancelled, crash_note=crash, paused=event.paused,
                                checked=checks.paths if checks is not None else frozenset())
        self.runs.ended(job.id, "PAUSED" if event.paused else result.status.value)
        with self.state.lock:
            job.timing = None
        message = result.message
        if event.detail and message:
            message = f"{message} ({event.detail})"
        retry = result.status is JobStatus.FAILED and result.retry and outcome.retryable(
            event, job.attempts, self.recipe.settings.retries,
            job.cancel_requested or self.state.cancel_asked.is_set())
        twice = checks.twice() if checks is not None else None
        if twice is not None and result.status is not JobStatus.CANCELLED:
            self._end_job(job, JobStatus.FAILED, f"Frame {twice[0]} failed its check twice: {twice[1]}")
            return
        again = (result.status is JobStatus.FINISHED and checks is not None
                 and any(frame not in job.done for frame in checks.problems))
        if result.status is JobStatus.QUEUED or ((retry or again) and self._pausing):  # waits too
            job.attempts -= 1 if event.paused else 0   # a pause costs no attempt
            self._put_back(job, message or "Paused")
            return
        if retry:
            self._retry(job, message or "failed")
            return
        if again and (job.cancel_requested or self.state.cancel_asked.is_set()):
            self._end_job(job, JobStatus.CANCELLED, "Cancelled before the frame(s) that failed "
                                                    "their check rendered again")
            return
        if again:
            self._render_again(job)
            return
        self._end_job(job, result.status, message)

    # ---------------------------------------------------------------- retrying and ending

    def _retry(self, job: JobState, message: str) -> None:
        left = len(job.job.frames) - len(job.done)
        total = self.recipe.settings.retries + 1
        self.changes.job_message(job, f"Attempt {job.attempts} of {total}: {message}; "
                                      f"rendering the {left} missing frame(s) again")
        self._resubmit(job)

    def _render_again(self, job: JobState) -> None:
        """Frames that failed their check render once more (no crash retry: no attempt counted)."""
        bad = sorted(f for f in self._checks[job.id].problems if f not in job.done)
        self.changes.job_message(job, f"Rendering frame(s) {', '.join(map(str, bad))} again: "
                                      "they failed their check")
        job.attempts -= 1
        self._resubmit(job)

    def _resubmit(self, job: JobState) -> None:
        """The job's Blender exited: its missing frames go to its executor again."""
        self._cleanup(job)
        with self.state.lock:
            self._active.pop(job.id, None)
            executor = self._running_on.pop(job.id)
        self._slots.release(job.id)
        with self.state.lock:
            job.progress = JobProgress(frames=job.job.frames, engine=job.job.engine)
            job.count_done_frames()
        try:
            self._submit(job, executor)
        except (ExecutorError, OSError) as exc:
            self._end_job(job, JobStatus.FAILED, str(exc))

    def _end_job(self, job: JobState, status: JobStatus, message: str | None) -> None:
        """Set the final status, run POST_JOB (not for a cancelled job), clean up; a job with
        ``encode`` whose frames are all there first makes its movie (``job_movies``)."""
        if status is JobStatus.FINISHED and job.job.encode is not None:
            executor = self._running_on.get(job.id)
            if getattr(executor, "makes_movies", False):
                status, message = self.movies.farm_result(job)
            else:
                self._let_go(job)   # the render slot is free while the movie is made
                ends = self.movies.after_frames(job)
                if ends is None:
                    return          # it waits for its movie: ``_end_after_movie`` ends it
                status, message = ends
        self._end_after_movie(job, status, message)

    def _end_after_movie(self, job: JobState, status: JobStatus, message: str | None) -> None:
        self.changes.set_status(job, status, message)
        if status is not JobStatus.CANCELLED and not self.state.cancel_asked.is_set():
            self.hooks.run_job("POST_JOB", job)
        self._let_go(job)

    def _put_back(self, job: JobState, message: str) -> None:
        """Stopped by a pause: QUEUED again, its frames kept, no POST_JOB; back at the front of
        the order, with the other jobs the pause stopped, in the order they started."""
        self.changes.set_status(job, JobStatus.QUEUED, message)
        self._let_go(job)
        self.order.add(job.id, put_back_index(self.order, self._held, job.id,
                                              lambda i: self.state.jobs[i].started or 0.0))
        self._held.add(job.id)

    def _let_go(self, job: JobState) -> None:
        """The job no longer runs: its executor, slot and temp folder are let go."""
        self._checks.pop(job.id, None)
        with self.state.lock:
            self._active.pop(job.id, None)
            self._running_on.pop(job.id, None)
            running = [j.id for j in self.state.jobs if j.status is JobStatus.RUNNING]
            self.state.current = min(running) if running else None
        self._slots.release(job.id)
        self._cleanup(job)
        self.state.changed()

    def _cleanup(self, job: JobState) -> None:
        if job.workdir:
            if self.options.cleanup:
                shutil.rmtree(job.workdir, ignore_errors=True)
            else:
                self.log.write(f"[job {job.id}] temp folder kept: {job.workdir}")
            job.workdir = None
