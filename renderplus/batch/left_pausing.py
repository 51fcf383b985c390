"""A PAUSED batch restored while a dead Render+'s farm jobs were still pausing.

A pause "frame" on a farm lets the running chunks finish and holds the rest; a Render+ killed
meanwhile leaves the store saying PAUSED while the farm still runs a chunk and keeps the held
ones waiting. The next Render+ asks each such job's executor to finish that pause
(``finish_pause(handle, sink) -> bool``, ``FarmExecutor``: it asks the farm the job's fate):
the running chunks finish, the held rest is cancelled, so nothing of the batch stays on the
farm. The batch shows PAUSED meanwhile; continuing it waits until every such pause has ended,
and the frames the chunks wrote count as done when it does (they are on disk, written after
the job started: ``resume``'s unrecorded frames), so they are not rendered again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from .executors import ExecEvent, Executor, ExecutorError, Exited, JobHandle
from .executors.base import EventSink
from .store import StoredBatch
from .view import BatchStatus, JobStatus

log = logging.getLogger("renderplus.batch")


@runtime_checkable
class FinishesPauses(Protocol):
    """An executor whose jobs outlive Render+ (a farm), and that can finish their pause."""

    name: str

    def finish_pause(self, handle: JobHandle, sink: EventSink) -> bool:
        """True when some of the job was still on the farm and its pause goes on (``sink``
        hears its ``Exited``); False when nothing of it is there."""


class LeftPausing:
    """The jobs of a restored PAUSED batch whose pause goes on on a farm, until it has ended."""

    def __init__(self, report: Callable[[str], None]) -> None:
        self._report = report
        self._lock = threading.Lock()
        self._jobs: set[int] = set()
        self._ended = threading.Event()
        self._ended.set()

    @property
    def jobs(self) -> tuple[int, ...]:
        """The jobs whose pause has not ended yet."""
        with self._lock:
            return tuple(sorted(self._jobs))

    def start(self, stored: StoredBatch, executor: Executor | None) -> None:
        """Ask ``executor`` to finish the pause of each job ``stored`` left running on it."""
        if stored.status is not BatchStatus.PAUSED or not isinstance(executor, FinishesPauses):
            return
        for saved in stored.jobs:
            handle = saved.handle
            if saved.status is not JobStatus.RUNNING or handle is None \
                    or handle.executor != executor.name:
                continue
            with self._lock:
                self._jobs.add(saved.job_id)
                self._ended.clear()
            try:
                going_on = executor.finish_pause(handle, self._sink(saved.job_id))
            except ExecutorError as exc:
                self._report(f"Job {saved.job_id}: cannot ask the farm about its pause: {exc}")
                going_on = False
            if going_on:
                self._report(f"Job {saved.job_id} was pausing on the farm when Render+ stopped: "
                             "its running chunks finish there, the rest is cancelled; the "
                             "batch continues once they have")
            else:
                self._done(saved.job_id)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every pause has ended; False on timeout."""
        return self._ended.wait(timeout)

    def _sink(self, job_id: int) -> EventSink:
        def sink(event: ExecEvent) -> None:
            if isinstance(event, Exited):
                detail = f": {event.detail}" if event.detail else ""
                self._report(f"Job {job_id}'s pause on the farm has ended{detail}")
                self._done(job_id)
        return sink

    def _done(self, job_id: int) -> None:
        with self._lock:
            self._jobs.discard(job_id)
            if not self._jobs:
                self._ended.set()
