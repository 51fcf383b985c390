"""The mutable state of one job in a batch, and the cached ``JobView`` it shows.

(Not the store's ``StoredJob``, which is what survives a restart.) Only the batch's thread
changes a ``JobState``: what a view shows (status, progress, messages) under the batch lock,
its run's bookkeeping (done frames, attempts, temp folder, handle) outside it; ``view()`` (any
thread, under the same lock) rebuilds the frozen ``JobView`` only when the state's revision
moved, or once a second while the job runs (its ETA ticks).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .blender_pick import BlenderPick
from .encode.movie_state import MovieState, waiting_movie
from .estimate import JobEstimate
from .executors import JobHandle
from .job_eta import queued_eta, running_eta
from .parser import Event, EventKind, JobProgress
from .recipe import Job
from .run_record import RunTiming
from .view import NO_PROCESS, NO_TIMES, JobStatus, JobView, ProcessInfo, Times

MAX_JOB_MESSAGES = 50
MAX_EXTRA_OUTPUTS = 1000  # File Output node files shown in a poll (the store keeps them all)


@dataclass
class JobState:
    job: Job
    status: JobStatus
    started: float | None = None
    finished: float | None = None
    messages: list[str] = field(default_factory=list)
    messages_dropped: int = 0
    progress: JobProgress | None = None
    process_started: float | None = None
    process_exited: float | None = None
    returncode: int | None = None
    handle: JobHandle | None = None
    cancel_requested: bool = False
    workdir: str | None = None
    outputs_file: str | None = None
    attempts: int = 0
    done: dict[int, list[str]] = field(default_factory=dict)  # frames written and verified
    peak_mem_mb: float | None = None
    extra_outputs: deque[str] | None = None  # made on the first File Output node file
    prior: JobEstimate | None = None     # from the history, before it runs (``estimate``)
    timing: RunTiming | None = None      # its Blender's clock while it runs (``run_record``)
    ran: float = 0.0                     # seconds it rendered in runs that ended
    running_since: float | None = None
    blender: BlenderPick | None = None   # which Blender renders it, once chosen (the poll's ``blender``)
    movie: MovieState | None = None      # its movie, for a job with ``encode`` (the poll's ``movie``)
    revision: int = 0
    _view: JobView | None = None
    _view_key: tuple[int, int] = (-1, 0)

    def __post_init__(self) -> None:
        if self.job.encode is not None and self.movie is None:
            self.movie = waiting_movie(self.job.encode.format)

    @property
    def id(self) -> int:
        return self.job.id

    def add_message(self, message: str) -> None:
        """Keep the first messages and a count of the rest: a chatty failure cannot grow a poll."""
        if len(self.messages) < MAX_JOB_MESSAGES:
            self.messages.append(message)
        else:
            self.messages_dropped += 1
            self.messages[-1] = f"... and {self.messages_dropped} more messages (see the log)"
        self.revision += 1

    def count_done_frames(self) -> None:
        """Frames done before this run count in the job's progress, as if just written (call
        under the batch's lock, with ``progress`` set)."""
        progress = self.progress
        assert progress is not None
        for frame, paths in sorted(self.done.items()):
            path = paths[0] if paths and paths[0] else None
            progress.apply(Event(EventKind.FRAME_WRITTEN, frame=frame, text=path))
        self.revision += 1

    def add_extra_outputs(self, paths: list[str]) -> None:
        if self.extra_outputs is None:
            self.extra_outputs = deque(maxlen=MAX_EXTRA_OUTPUTS)
        self.extra_outputs.extend(paths)
        self.revision += 1

    def note_memory(self, text: str | None) -> None:
        """Keep the highest memory Blender reported (``127.56M``, ``1.2G``) for the store."""
        value = megabytes(text)
        if value is not None and (self.peak_mem_mb is None or value > self.peak_mem_mb):
            self.peak_mem_mb = value

    def run_begins(self, now: float) -> None:
        if self.running_since is None:
            self.running_since = now

    def run_ends(self, now: float) -> None:
        """Its rendering stops (ended, paused, put back): the stretch counts in ``ran``."""
        if self.running_since is not None:
            self.ran += max(0.0, now - self.running_since)
            self.running_since = None

    @property
    def _interrupted(self) -> bool:
        """CANCELLED without an end time: the Render+ rendering it died (a resume restored it)."""
        return self.status is JobStatus.CANCELLED and self.finished is None and self.ran > 0

    def view(self, now: float) -> JobView:
        key = (self.revision, int(now) if self.status is JobStatus.RUNNING else 0)
        if self._view is None or self._view_key != key:
            self._view, self._view_key = self._build(now), key
        return self._view

    def _build(self, now: float) -> JobView:
        progress = self.progress
        eta, eta_runs = self.eta(now)
        if progress is None and self.started is None and not self.messages:
            # nothing happened to it yet: the cheap form (a big recipe's first poll)
            return JobView(self.job.id, self.status, self.job.display_name,
                           frames_total=len(self.job.frames), eta=eta, eta_runs=eta_runs,
                           movie=self.movie.to_json() if self.movie is not None else None,
                           after=tuple(self.job.after))
        if progress is not None:
            percent = round(progress.progress, 4)
        else:
            percent = 100.0 if self.status is JobStatus.FINISHED else 0.0
        return JobView(
            id=self.job.id,
            status=self.status,
            name=self.job.display_name,
            times=(Times(self.started, self.finished,   # a job an interruption cancelled: its
                         self.ran if self.finished is not None or self._interrupted else None)
                   if self.started is not None else NO_TIMES),
            messages=tuple(self.messages),
            progress=percent,
            engine_type=progress.engine_type if progress else None,
            engine_data=dict(progress.data) if progress and progress.data else None,
            eta=eta,
            eta_runs=eta_runs,
            frames_done=progress.frames_done if progress else 0,
            frames_total=len(self.job.frames),
            outputs=self._outputs(progress),
            process=(ProcessInfo(self.process_started, self.process_exited, self.returncode)
                     if self.process_started is not None else NO_PROCESS),
            blender=self.blender.to_json() if self.blender is not None else None,
            movie=self.movie.to_json() if self.movie is not None else None,
            after=tuple(self.job.after),
        )

    def _outputs(self, progress: JobProgress | None) -> tuple[str, ...]:
        """Every file written, once: Blender prints ``Saved:`` for some File Output node files
        too, which the frame markers also list."""
        saved = tuple(progress.saved_files) if progress else ()
        if not self.extra_outputs:
            return saved
        return tuple(dict.fromkeys((*saved, *self.extra_outputs)))

    def eta(self, now: float) -> tuple[float | None, int | None]:
        """Seconds left and the earlier runs they rest on (``job_eta``); a running job nothing
        similar ever ran: from the share done so far, once there is something to go on."""
        total = len(self.job.frames)
        if self.status is JobStatus.QUEUED:
            return queued_eta(self.prior, total - len(self.done))
        progress = self.progress
        if self.status is not JobStatus.RUNNING or progress is None or self.started is None:
            return None, None
        left = total - min(progress.frames_done, len(self.done))  # verified frames only: a
        eta, runs = running_eta(self.prior, self.timing, left, now)  # bad one renders again
        if eta is not None:
            return eta, runs
        done = progress.progress
        if done <= 0.5:
            return None, None
        rendering = self.ran + (now - self.running_since if self.running_since else 0.0)
        return round(rendering * (100.0 - done) / done, 1), None


_UNITS = {"K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0 * 1024}


def megabytes(text: str | None) -> float | None:
    """``127.56M`` -> 127.56; None when it is not a memory figure."""
    if not text or text[-1].upper() not in _UNITS:
        return None
    try:
        return float(text[:-1]) * _UNITS[text[-1].upper()]
    except ValueError:
        return None
