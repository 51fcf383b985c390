"""Following farm jobs: one thread polls the farm and turns what it says into runner events.

Per farm job, per poll: the first task seen running (or ended other than cancelled) sends
``Started``; every task's new output is read (Slurm: its output file; Flamenco: its log) and
its ``frame`` markers become ``FramesWritten`` at once, whichever task wrote them. The lowest
running task is *followed*: its lines go through ``Output`` so the runner's parser shows
within-frame detail (two Blenders' status lines interleaved would only confuse it); other
tasks' error lines go through too, and a failed task's last lines when it ends. Only the first
``ready`` marker passes, carrying the whole job's frames (each chunk's names only its own), and
``Blender quit`` lines are dropped (each chunk prints one; the parser would ignore everything
after the first).

The job ends (``Exited``) when every task has ended: 0 when all completed, even if a cancel was
asked meanwhile (the farm's answer wins); ``cancelled=True`` when Render+ asked and the farm
cancelled; otherwise the first failed task's exit code with the farm's reason — a task
cancelled from outside Render+ counts as failed and is ``final`` (the runner does not retry a
job someone ended on purpose), and the rest of that farm job is cancelled.

A pause (``pause``): "now" cancels the whole farm job; "frame" asks the farm to start no more
of its tasks (Slurm: hold; Flamenco: pause-requested) and lets the running ones finish; once
none runs, what still waits is cancelled. Either way the job ends ``Exited(paused=True)`` once
no task of it runs or waits, with the frames of its finished chunks written (and, for "now",
those the cancelled chunks wrote before). A job whose tasks all completed meanwhile has simply
finished (0).

A job with a movie (``encode``) has one more step, queued to start once every task completed
(Slurm: a second job; Flamenco: the job's last task). Once its tasks have all ended, the job's
encode is followed: its lines pass through ``Output`` in order after the chunks' (the movie's
markers reach the runner that way), and ``Exited`` comes when it has ended, with the tasks'
outcome (0). An encode that failed or was cancelled on the farm without saying so (no ``movie``
or ``encode_failed`` marker) gets an ``encode_failed`` marker naming how it ended, and a partial
movie it left is removed. Tasks that did not all complete end the job at once: the encode never
runs (Slurm cancels it, ``DependencyNeverSatisfied``), and it is cancelled. A cancel or a pause
cancels the encode too: ``Exited(cancelled=True)`` or ``Exited(paused=True)`` when it was the
encode that stopped (every frame is there: the movie is what is left to make).
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ....blender_scripts.movie_name import partial_path
from ...frames import FrameSet
from ...markers import MARKER_PREFIX, format_marker, parse_marker
from ...parser import EventKind, parse_line
from ..base import EventSink, Exited, FramesWritten, JobHandle, Output, Started
from .base import (
    ENCODE_INDEX,
    FarmEngine,
    FarmError,
    FarmJobStatus,
    FarmTask,
    TaskState,
    TaskStatus,
    UnknownFarmJob,
)

log = logging.getLogger("renderplus.farm")

TAIL_LINES = 20
CANCEL_CODE = -15     # what a cancelled job reports as its exit (SIGTERM)
_RAN = (TaskState.RUNNING, TaskState.COMPLETED, TaskState.FAILED)
_ENCODE_ENDS = ("movie", "encode_failed")   # the encode said how it ended


@dataclass
class _Failure:
    code: int
    detail: str
    final: bool       # not worth a retry: someone on the farm ended it on purpose


@dataclass
class _Run:
    handle: JobHandle
    tasks: tuple[FarmTask, ...]
    frames_spec: str
    sink: EventSink
    offsets: dict[int, int] = field(default_factory=dict)
    drained: set[int] = field(default_factory=set)
    frames_seen: set[int] = field(default_factory=set)
    tails: dict[int, collections.deque[str]] = field(default_factory=dict)
    started: bool = False
    ready_sent: bool = False
    cancel_requested: bool = False
    pause_when: str | None = None   # "frame" or "now" once a pause was asked
    held: bool = False              # the farm was told to start no more tasks ("frame")
    stopping: bool = False
    failure: _Failure | None = None
    unreachable_since: float | None = None
    encode: FarmTask | None = None  # the movie, queued after every task (its own farm id)
    encode_offset: int = 0
    encode_said: bool = False       # its ``movie`` or ``encode_failed`` marker was seen
    encode_cancel_asked: bool = False
    movie: str = ""                 # the movie's path, from its ``encode_ready`` marker

    @property
    def job_id(self) -> int:
        return self.handle.job_id

    @property
    def farm_id(self) -> str:
        assert self.handle.farm_id is not None
        return self.handle.farm_id


class FarmWatch:
    """The watcher thread and the farm jobs it follows."""

    def __init__(self, engine: FarmEngine, *, poll_interval: float, lost_after: float) -> None:
        self.engine = engine
        self.poll_interval = poll_interval
        self.lost_after = lost_after
        self._lock = threading.Lock()
        self._runs: dict[int, _Run] = {}
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._runs)

    def follow(self, handle: JobHandle, tasks: Sequence[FarmTask], frames: FrameSet,
               sink: EventSink, *, pause_when: str | None = None,
               encode: FarmTask | None = None) -> str:
        """Start following a farm job; the ``where`` its ``Accepted`` says (where it waits).
        ``pause_when``: a pause asked before (a re-attach after a restart) goes on;
        ``encode``: its movie's step, queued on the farm (``FarmEngine.submit_encode``)."""
        run = _Run(handle, tuple(tasks), frames.to_spec(), sink, pause_when=pause_when,
                   encode=encode)
        where = ""
        try:
            status = self.engine.poll(run.farm_id, run.tasks)
            if not any(t.state is not TaskState.QUEUED for t in status.tasks):
                where = f"waiting in {status.where or self.engine.where()}"
        except FarmError as exc:
            where = f"submitted to {self.engine.where()} (no answer yet: {exc})"
        with self._lock:
            self._stopped = False
            self._runs[handle.job_id] = run
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="renderplus-farm",
                                                daemon=True)
                self._thread.start()
        self._wake.set()
        return where

    def cancel(self, job_id: int) -> bool:
        with self._lock:
            run = self._runs.get(job_id)
            if run is None:
                return False
            run.cancel_requested = True
        try:
            self.engine.cancel(run.farm_id, "cancelled in Render+")
        except FarmError as exc:
            log.warning("cancel of farm job %s failed (retried while it runs): %s", run.farm_id, exc)
        self._cancel_encode_quietly(run, "cancelled in Render+", separate_only=True)
        self._wake.set()
        return True

    def handle(self, job_id: int) -> JobHandle | None:
        with self._lock:
            run = self._runs.get(job_id)
            return run.handle if run is not None else None

    def pause(self, job_id: int, when: str) -> bool:
        """Ask the farm to pause the job (see the module docstring); False if not followed or
        being cancelled. A second pause is no error; "now" after "frame" cancels at once."""
        with self._lock:
            run = self._runs.get(job_id)
            if run is None or run.cancel_requested:
                return False
            if run.pause_when == "now" or run.pause_when == when:
                return True
            run.pause_when = when
        if when == "now":
            self._cancel_quietly(run, "paused in Render+ (now)")
        else:
            run.held = self._hold_quietly(run)
        self._wake.set()
        return True

    def cancel_all(self) -> None:
        with self._lock:
            job_ids = list(self._runs)
        for job_id in job_ids:
            self.cancel(job_id)

    def stop(self) -> None:
        """Forget every job without cancelling it; no more events."""
        with self._lock:
            self._stopped = True
            self._runs.clear()
        self._wake.set()

    # ------------------------------------------------------------------ the thread

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._stopped or not self._runs:
                    self._thread = None
                    return
                runs = list(self._runs.values())
            for run in runs:
                try:
                    self._step(run)
                except Exception:  # one job's surprise must not stop the others' watch
                    log.exception("watching farm job %s", run.farm_id)
            self._wake.wait(self.poll_interval)
            self._wake.clear()

    def _emit(self, run: _Run, event: object) -> None:
        with self._lock:
            if self._runs.get(run.job_id) is not run:
                return  # stopped, or ended meanwhile
        run.sink(event)  # type: ignore[arg-type]

    def _step(self, run: _Run) -> None:
        try:
            status = self.engine.poll(run.farm_id, run.tasks)
        except UnknownFarmJob as exc:
            self._end(run, Exited(run.job_id, 1, time.time(), detail=f"the farm lost the job: {exc}"))
            return
        except FarmError as exc:
            now = time.time()
            run.unreachable_since = run.unreachable_since or now
            if now - run.unreachable_since > self.lost_after:
                self._end(run, Exited(run.job_id, 1, now,
                                      detail=f"the farm stopped answering: {exc}"))
            return
        run.unreachable_since = None
        if run.cancel_requested and not run.stopping:
            run.stopping = True  # ask again: the first request may not have reached the farm
            self._cancel_quietly(run, "cancelled in Render+")
        if run.pause_when is not None and not run.stopping:
            self._pause_step(run, status)
        ran = [t for t in status.tasks if t.state in _RAN]
        if not run.started and ran:  # a task cancelled while it waited never ran: no Started
            run.started = True
            starts = [t.started for t in ran if t.started]
            self._emit(run, Started(run.job_id, run.handle, min(starts) if starts else time.time()))
        followed = min((t.index for t in status.tasks if t.state is TaskState.RUNNING),
                       default=None)
        if followed is None:  # none running now: the first that ended since the last poll
            followed = min((t.index for t in status.tasks
                            if t.state.ended and t.index not in run.drained), default=None)
        for task in run.tasks:
            state = status.task(task.index)
            if state is None or task.index in run.drained or state.state is TaskState.QUEUED:
                continue
            self._read(run, task, followed == task.index, final=state.state.ended)
            if state.state.ended:
                run.drained.add(task.index)
                self._task_ended(run, task, status)
        if all(t.index in run.drained for t in run.tasks):
            if run.encode is None:
                self._end(run, self._exit_event(run, status))
            else:
                self._encode_step(run, status)

    def _encode_step(self, run: _Run, status: FarmJobStatus) -> None:
        """Every task has ended: follow the encode (its lines, its end), or, when the tasks did
        not all complete, end now: the encode will never run."""
        assert run.encode is not None
        if run.failure is not None or not all(t.state is TaskState.COMPLETED for t in status.tasks):
            if not run.encode_cancel_asked:
                self._cancel_encode_quietly(run, "its frames were not all rendered")
            self._end(run, self._exit_event(run, status))
            return
        try:
            state = self.engine.poll_encode(run.encode)
        except UnknownFarmJob as exc:
            state = TaskStatus(ENCODE_INDEX, TaskState.FAILED, None, f"the farm lost it: {exc}")
        except FarmError as exc:  # asked again at the next poll
            log.debug("no state of the encode of farm job %s yet: %s", run.farm_id, exc)
            return
        if state.state is TaskState.QUEUED:
            return
        self._read_encode(run, final=state.state.ended)
        if state.state.ended:
            self._end(run, self._encode_exit(run, state))

    def _read_encode(self, run: _Run, *, final: bool) -> None:
        assert run.encode is not None
        try:
            text, offset = self.engine.read_log(run.encode.farm_id or run.farm_id, run.encode,
                                                run.encode_offset, final=final)
        except FarmError as exc:
            log.debug("no log for the encode of %s yet: %s", run.farm_id, exc)
            return
        run.encode_offset = offset
        for line in text.splitlines():
            self._encode_line(run, line)

    def _encode_line(self, run: _Run, line: str) -> None:
        """Every line of the encode goes to the runner (its markers make the job's movie)."""
        if line.strip() == "Blender quit":
            return
        marker = parse_marker(line) if line.startswith(MARKER_PREFIX) else None
        if marker is not None and marker["event"] in _ENCODE_ENDS:
            run.encode_said = True
        if marker is not None and marker["event"] == "encode_ready" and isinstance(marker.get("movie"), str):
            run.movie = marker["movie"]
        self._emit(run, Output(run.job_id, line))

    def _encode_exit(self, run: _Run, state: TaskStatus) -> Exited:
        """The job's end once its encode ended (see the module docstring)."""
        now = time.time()
        if state.state is TaskState.COMPLETED and run.encode_said:
            return Exited(run.job_id, 0, now)
        if not run.encode_said or state.state is not TaskState.COMPLETED:
            self._remove_partial(run)
        if state.state is TaskState.CANCELLED and run.cancel_requested:
            return Exited(run.job_id, CANCEL_CODE, now, cancelled=True,
                          detail="cancelled while its movie was made on the farm (no partial movie left)")
        if state.state is TaskState.CANCELLED and run.pause_when is not None:
            return Exited(run.job_id, CANCEL_CODE, now, paused=True,
                          detail=f"paused on the farm ({run.pause_when}) while its movie was made: "
                                 "every frame is there, the movie is made when the batch continues")
        if not run.encode_said:
            self._emit(run, Output(run.job_id, format_marker("encode_failed",
                                                             message=encode_end(run, state))))
        return Exited(run.job_id, 0, now)

    def _remove_partial(self, run: _Run) -> None:
        """The partial movie an encode killed hard left beside the movie (a SIGTERM lets the
        script remove it itself)."""
        if not run.movie:
            return
        partial = partial_path(run.movie)
        try:
            os.remove(partial)
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("cannot remove the partial movie %s: %s", partial, exc)
            return
        log.info("removed the partial movie %s", partial)

    def _pause_step(self, run: _Run, status: FarmJobStatus) -> None:
        """Cancel what is left once no task runs (at once for "now"); hold again if the first
        ask did not reach the farm."""
        running = any(t.state is TaskState.RUNNING for t in status.tasks)
        if run.pause_when == "now" or not running:
            run.stopping = True  # from here on a cancelled task is the pause's doing
            if not all(t.state.ended for t in status.tasks):
                self._cancel_quietly(run, f"paused in Render+ ({run.pause_when})")
            elif run.encode is not None:  # the tasks are done: the encode is what is left
                self._cancel_encode_quietly(run, f"paused in Render+ ({run.pause_when})")
        elif not run.held:
            run.held = self._hold_quietly(run)

    def _read(self, run: _Run, task: FarmTask, followed: bool, *, final: bool) -> None:
        try:
            text, offset = self.engine.read_log(run.farm_id, task, run.offsets.get(task.index, 0),
                                                final=final)
        except FarmError as exc:
            log.debug("no log for task %d of %s yet: %s", task.index, run.farm_id, exc)
            return
        run.offsets[task.index] = offset
        for line in text.splitlines():
            self._line(run, task, line, followed)

    def _line(self, run: _Run, task: FarmTask, line: str, followed: bool) -> None:
        if line.startswith(MARKER_PREFIX):
            marker = parse_marker(line)
            if marker is not None and marker["event"] == "frame":
                frame = marker.get("frame")
                if isinstance(frame, int) and frame not in run.frames_seen:
                    run.frames_seen.add(frame)
                    path = marker.get("path")
                    paths = (path,) if isinstance(path, str) and path else ()
                    self._emit(run, FramesWritten(run.job_id, FrameSet.single(frame), paths))
                return
            if marker is not None and marker["event"] == "ready":
                if not run.ready_sent:
                    run.ready_sent = True
                    fields = {k: v for k, v in marker.items() if k != "event"}
                    fields["frames"] = run.frames_spec
                    self._emit(run, Output(run.job_id, format_marker("ready", **fields)))
                return
            self._emit(run, Output(run.job_id, line))  # an error marker: always
            return
        if line.strip() == "Blender quit":
            return
        if followed:
            self._emit(run, Output(run.job_id, line))
            return
        run.tails.setdefault(task.index, collections.deque(maxlen=TAIL_LINES)).append(line)
        event = parse_line(line)
        if event is not None and (event.kind is EventKind.ERROR or event.fatal):
            self._emit(run, Output(run.job_id, line))

    def _task_ended(self, run: _Run, task: FarmTask, status: FarmJobStatus) -> None:
        state = status.task(task.index)
        assert state is not None
        if state.state is TaskState.COMPLETED:
            missing = [f for f in task.frames if f not in run.frames_seen]
            if missing:
                run.frames_seen.update(missing)
                self._emit(run, FramesWritten(run.job_id, FrameSet.from_frames(missing)))
            return
        for line in run.tails.pop(task.index, ()):  # what the failed chunk said last
            self._emit(run, Output(run.job_id, line))
        if state.state is TaskState.CANCELLED and (run.cancel_requested or run.stopping
                                                   or run.pause_when == "now"):
            return  # Render+ asked for it (a cancel, a pause, the rest after a failure)
        where = f"chunk {task.index}, frames {task.frames.to_spec()}"
        if state.state is TaskState.CANCELLED:
            detail = f"cancelled on the farm by someone other than Render+ ({where}"
            detail += f"; {state.reason})" if state.reason else ")"
            code = state.returncode if state.returncode else CANCEL_CODE
            final = True
        else:
            detail = f"farm task failed ({where}" + (f"; {state.reason})" if state.reason else ")")
            code = state.returncode if state.returncode else 1
            final = False
        if run.failure is None:
            run.failure = _Failure(code, detail, final)
        if not run.stopping:
            run.stopping = True  # the job has failed: free the farm of its other chunks
            self._cancel_quietly(run, f"Render+ job failed: {detail}")

    def _exit_event(self, run: _Run, status: FarmJobStatus) -> Exited:
        now = time.time()
        if run.failure is not None:
            return Exited(run.job_id, run.failure.code, now, detail=run.failure.detail,
                          final=run.failure.final)
        if all(t.state is TaskState.COMPLETED for t in status.tasks):
            return Exited(run.job_id, 0, now)
        if run.pause_when is not None and not run.cancel_requested:
            done = sum(1 for t in status.tasks if t.state is TaskState.COMPLETED)
            return Exited(run.job_id, CANCEL_CODE, now, paused=True,
                          detail=f"paused on the farm ({run.pause_when}): {done} of "
                                 f"{len(status.tasks)} chunk(s) finished, the rest cancelled")
        return Exited(run.job_id, CANCEL_CODE, now, cancelled=run.cancel_requested)

    def _end(self, run: _Run, event: Exited) -> None:
        """Free the job's place and post its end in one step, under the lock ``count`` reads:
        the job loop never sees the place free before the end is posted, nor the reverse (a
        retry submitted at once finds its place)."""
        with self._lock:
            if self._runs.get(run.job_id) is not run:
                return  # stopped, or ended meanwhile
            del self._runs[run.job_id]
            run.sink(event)

    def _hold_quietly(self, run: _Run) -> bool:
        try:
            self.engine.pause(run.farm_id, "paused in Render+ (after the running tasks)")
        except FarmError as exc:
            log.warning("hold of farm job %s failed (retried while it runs): %s", run.farm_id, exc)
            return False
        return True

    def _cancel_quietly(self, run: _Run, reason: str) -> None:
        """Cancel the farm job, and its encode when that is a farm job of its own."""
        try:
            self.engine.cancel(run.farm_id, reason)
        except FarmError as exc:
            log.warning("cancel of farm job %s failed: %s", run.farm_id, exc)
        self._cancel_encode_quietly(run, reason, separate_only=True)

    def _cancel_encode_quietly(self, run: _Run, reason: str, *, separate_only: bool = False) -> None:
        """Cancel the encode. ``separate_only``: only when it is a farm job of its own (else
        the farm job's cancel just asked includes it)."""
        encode = run.encode
        if encode is None:
            return
        farm_id = encode.farm_id or run.farm_id
        if separate_only and farm_id == run.farm_id:
            run.encode_cancel_asked = True
            return
        run.encode_cancel_asked = True
        try:
            self.engine.cancel(farm_id, reason)
        except FarmError as exc:
            log.warning("cancel of the encode %s of farm job %s failed: %s", farm_id, run.farm_id, exc)


def encode_end(run: _Run, state: TaskStatus) -> str:
    """How the encode ended, when it did not say: "the farm's encode job 1234 ended FAILED
    (exit code 1; Slurm: FAILED, NonZeroExitCode)"."""
    assert run.encode is not None
    farm_id = run.encode.farm_id or run.farm_id
    what = (f"encode job {farm_id}" if farm_id != run.farm_id
            else f"encode task of farm job {farm_id}")
    code = state.returncode
    parts = [f"exit code {code}" if code is not None and code >= 0 else
             f"signal {-code}" if code is not None else ""]
    if state.reason:
        parts.append(state.reason)
    said = "; ".join(p for p in parts if p)
    ended = "without making a movie" if state.state is TaskState.COMPLETED else \
        f"ended {state.state.value.upper()}"
    return f"the farm's {what} {ended}" + (f" ({said})" if said else "")
