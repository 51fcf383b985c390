"""A batch's state behind one lock, and the frozen views built from it.

``BatchState`` is what readers touch: statuses, times, messages, hook results, the revision
that goes up on every change, and ``view()`` (one ``BatchView`` per revision, built from
per-job ``JobView`` fragments cached while a job does not change). It holds data and no
policy: the job loop (``jobloop``) and the lifecycle (``lifecycle``) change it, job statuses and
messages through ``BatchChanges`` (``changes``), which writes each change to the log and the
store before the revision goes up.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .dependencies import start_order
from .jobstate import JobState
from .order import RunOrder, run_order
from .pause import PauseRequest
from .recipe import Recipe
from .view import (
    BatchStatus,
    BatchView,
    HookRun,
    JobStatus,
    JobView,
    PowerOffState,
    Stats,
    Times,
    batch_progress,
)

MAX_BATCH_MESSAGES = 200
MAX_HOOK_RESULTS = 500


class BatchState:
    """Readable from any thread; changed by the batch's thread (and a cancel), under ``lock``."""

    def __init__(self, recipe: Recipe, slots: int = 1) -> None:
        self.recipe = recipe
        self.slots = slots
        self.lock = threading.RLock()
        self._changes = threading.Condition(self.lock)
        self._status = BatchStatus.WAITING
        self.ran = 0.0      # seconds RUNNING in earlier stretches (a pause, a restart between)
        self.running_since: float | None = None
        self.started: float | None = None
        self.finished: float | None = None
        self.messages: list[str] = []
        self._messages_dropped = 0
        self.jobs = [JobState(job, JobStatus.QUEUED if job.enabled else JobStatus.DISABLED)
                     for job in recipe.jobs]
        self.current: int | None = None
        # the jobs still to start, in order (data: edits move and add jobs; stored with the batch)
        self.order = RunOrder(job.id for job in self.jobs if job.status is JobStatus.QUEUED)
        self.sealed = False          # no job can be added any more: the job loop has ended
        self.edit_lock = threading.Lock()   # one edit at a time, and none while the record is made
        self._revision = 0
        self.resumable = False
        self.hook_results: deque[HookRun] = deque(maxlen=MAX_HOOK_RESULTS)
        self._view: tuple[tuple[int, int], BatchView] | None = None
        self.done = threading.Event()
        self.cancel_asked = threading.Event()            # the batch is being cancelled
        self.pause: PauseRequest | None = None           # a pause under way (pause.py's rules)
        # when to render (batch_schedule): a started batch WAITING for its start, the start;
        # a batch its window paused, "window" and when it continues (None: paused by hand)
        self.starts_at: float | None = None
        self.paused_by: str | None = None
        self.continues_at: float | None = None
        self.go = threading.Event()                      # a waiting batch's start, or its cancel
        self.poweroff: Callable[[], PowerOffState | None] = lambda: None

    @property
    def status(self) -> BatchStatus:
        return self._status

    @status.setter
    def status(self, status: BatchStatus) -> None:
        """Every change of status also keeps the batch's rendering time (RUNNING stretches)."""
        now = time.time()
        if status is BatchStatus.RUNNING and self.running_since is None:
            self.running_since = now
        elif status is not BatchStatus.RUNNING and self.running_since is not None:
            self.ran += max(0.0, now - self.running_since)
            self.running_since = None
        self._status = status

    def rendering(self, now: float) -> float:
        """Seconds the batch rendered until ``now``, the time it was paused or down left out."""
        running = now - self.running_since if self.running_since is not None else 0.0
        return round(self.ran + max(0.0, running), 3)

    # ---------------------------------------------------------------- reading

    @property
    def running(self) -> bool:
        """RUNNING, or started and WAITING for its start time (it holds the slot and the queue)."""
        return self.status is BatchStatus.RUNNING or self.waiting

    @property
    def waiting(self) -> bool:
        """Started, and WAITING for its start time or its window."""
        return self.status is BatchStatus.WAITING and self.starts_at is not None

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def failed_jobs(self) -> int:
        return sum(1 for job in self.jobs if job.status is JobStatus.FAILED)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the batch has ended; False on timeout."""
        return self.done.wait(timeout)

    def wait_change(self, revision: int, timeout: float | None = None) -> int:
        """Block until the revision moves past ``revision`` (or the timeout); the revision."""
        with self._changes:
            self._changes.wait_for(lambda: self._revision != revision or self.done.is_set(),
                                   timeout)
            return self._revision

    def view(self) -> BatchView:
        """The batch now, as a frozen view: built once per revision (and per second while
        running, for the ETAs), shared by every reader."""
        with self.lock:
            now = time.time()
            key = (self._revision, int(now) if self.status is BatchStatus.RUNNING else 0)
            cached = self._view
            if cached is not None and cached[0] == key:
                return cached[1]
            view = self._build_view(now)
            self._view = (key, view)
            return view

    def snapshot(self) -> dict[str, Any]:
        """The poll (docs/api.md, Poll) as a dict (``view().to_json()``)."""
        return self.view().to_json()

    # ---------------------------------------------------------------- changing (the batch's thread)

    def changed(self) -> None:
        """Bump the revision and wake whoever waits for a change."""
        with self._changes:
            self._revision += 1
            self._changes.notify_all()

    def seal(self) -> None:
        """No job is added from now on (the loop has nothing left to start, or the batch is
        ending): an edit that comes later is refused rather than left QUEUED in an ended batch."""
        with self.lock:
            self.sealed = True

    def mark_done(self) -> None:
        """The batch has ended: ``wait()`` and ``wait_change()`` return."""
        with self._changes:
            self.done.set()
            self._changes.notify_all()

    def add_batch_message(self, message: str) -> None:
        with self.lock:
            if len(self.messages) < MAX_BATCH_MESSAGES:
                self.messages.append(message)
            else:
                self._messages_dropped += 1
                self.messages[-1] = f"... and {self._messages_dropped} more messages (see the log)"

    def apply_status(self, job: JobState, status: JobStatus, message: str | None) -> None:
        with self.lock:
            job.status = status
            now = time.time()
            if status is JobStatus.RUNNING:
                if job.started is None:
                    job.started = now
                job.finished = None
                job.run_begins(now)
            else:
                job.run_ends(now)
                if status.ended and job.started is not None:
                    job.finished = now
            if message:
                job.add_message(message)
            job.revision += 1

    def _build_view(self, now: float) -> BatchView:
        jobs = tuple(job.view(now) for job in self.jobs)
        status = self.status
        return BatchView(
            status=status,
            jobs=jobs,
            name=self.recipe.name,
            times=Times(self.started, self.finished,   # an interrupted batch: what it rendered
                        self.rendering(now) if self.finished is not None or self.resumable
                        else None),
            stats=Stats.of(jobs) if status is BatchStatus.FINISHED else Stats(),
            messages=tuple(self.messages),
            current_job=self.current,
            running_jobs=tuple(job.id for job in jobs if job.status is JobStatus.RUNNING),
            progress=batch_progress(jobs),
            eta=self._batch_eta(jobs, now),
            hooks=tuple(self.hook_results),
            poweroff=self.poweroff(),
            resumable=self.resumable,
            revision=self._revision,
            pausing=self.pause.when if self.pause is not None else None,
            order=run_order(jobs, start_order(list(self.order), self._after_of)),
            starts_at=self.starts_at if status is BatchStatus.WAITING else None,
            continues_at=self.continues_at if status is BatchStatus.PAUSED else None,
        )

    def _after_of(self, job_id: int) -> list[int]:
        return self.jobs[job_id].job.after

    def _batch_eta(self, jobs: tuple[JobView, ...], now: float) -> float | None:
        """Seconds left: running jobs' own ETAs, plus queued jobs at their estimates (from the
        history) or the average of this batch's finished jobs, spread over the slots. Known
        before the batch starts and while it waits or is paused, when every job's is."""
        if self.status.ended:
            return None
        durations = [job.times.rendertime for job in jobs
                     if job.status is JobStatus.FINISHED and job.times.rendertime is not None]
        running_left = 0.0
        for job in jobs:
            if job.status is JobStatus.RUNNING and job.eta is not None:
                running_left = max(running_left, job.eta)
                if not durations and job.progress > 0.5 and job.times.started is not None:
                    durations = [(now - job.times.started) * 100.0 / job.progress]
        running = [job for job in jobs if job.status is JobStatus.RUNNING]
        if not durations and any(job.eta is None for job in running):
            return None  # nothing to go on yet
        queued = [job for job in jobs if job.status is JobStatus.QUEUED]
        average = sum(durations) / len(durations) if durations else None
        total = 0.0
        for job in queued:
            past = job.eta if job.eta is not None else average
            if past is None:
                return None
            total += past
        return round(total / self.slots + running_left, 1)
