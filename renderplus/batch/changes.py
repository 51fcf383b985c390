"""Every change of a batch, done in one order: the state, the log, the store, then the readers.

``BatchChanges`` is how the job loop, the hooks and the lifecycle change a job's status, a job's
message or the batch's messages (``report``). (The batch's own status and times, progress
within a job and hook results are set on the state directly, under its lock.) Each change is applied to
the state under its lock, written to the log file and to the durable store, and only then does
the revision that pollers watch go up; a job's status change is then told to the observers
(``JobChanged``, and ``JobFailed`` with its reason).
"""

from __future__ import annotations

import logging
import time

from .batchstate import BatchState
from .jobstate import JobState
from .observers import JobChanged, JobFailed, Observers
from .runlog import RunLog
from .store import StoreWriter
from .view import JobStatus

log = logging.getLogger("renderplus.batch")


class BatchChanges:
    """Applies, logs, stores and announces a batch's changes (see the module docstring)."""

    def __init__(self, state: BatchState, run_log: RunLog, store: StoreWriter) -> None:
        self.state = state
        self.log = run_log
        self.store = store
        self.observers = Observers()   # none until the batch runs (``Observers.start``)

    def set_status(self, job: JobState, status: JobStatus, message: str | None = None) -> None:
        """A job's new status (and why), then ``JobChanged`` (and ``JobFailed``)."""
        self.state.apply_status(job, status, message)
        if message:
            self.log.write(f"[job {job.id}] {message}")
        self.store.job(job.id, status=status, started=job.started, finished=job.finished,
                       messages=list(job.messages), attempts=job.attempts,
                       peak_mem_mb=job.peak_mem_mb,
                       rendertime=job.ran if job.started is not None else None)
        self.store.batch(rendering=self.state.rendering(time.time()))
        self.job_state_changed(job.id)
        if status is JobStatus.FAILED:
            self.observers.notify(JobFailed(self.state.view(), job.id, message or ""))

    def job_message(self, job: JobState, message: str) -> None:
        with self.state.lock:
            job.add_message(message)
        self.log.write(f"[job {job.id}] {message}")
        self.store.job(job.id, messages=list(job.messages))
        self.state.changed()

    def report(self, message: str) -> None:
        """A batch message (hooks, notifications and the power action report through this)."""
        self.state.add_batch_message(message)
        self.log.write(f"[message] {message}")
        log.info("%s", message)
        self.store.batch(messages=list(self.state.messages))
        self.state.changed()

    def job_state_changed(self, job_id: int | None = None) -> None:
        """Bump the revision and tell the observers (``job_id`` None: the batch as a whole)."""
        self.state.changed()
        self.observers.notify(JobChanged(self.state.view(), job_id))
