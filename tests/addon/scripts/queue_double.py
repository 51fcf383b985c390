# mypy: disable-error-code="misc, call-arg"
# (a mixin: mypy cannot see that super() is the BatchService it is mixed before)
"""A TEST DOUBLE of the service's queue and pause (docs/api.md, Queue and Pause) for the add-on's
scenarios, while the engine's own ``BatchService.enqueue``/``pause``/... are not in this tree.

``queue_double_service(service_module, ...)`` returns a ``BatchService`` subclass instance with
the methods the add-on calls, built on the real service: a queued batch starts through the real
``load_recipe``/``start`` (real Blender renders it) once the current one has ended and the queue
is not held; ``pause`` cancels the running Blender (as a pause "now" ends it) and from then on
shows the batch as PAUSED with its unfinished jobs QUEUED; ``resume`` starts the batch's recipe
again. The hand-over happens when the add-on's pump reads the queue (no thread of its own: a
Python thread beside Blender's UI made operator calls from timers fail now and then in GUI
Blender 3.4). Every call is recorded in ``calls``. Once the engine has these methods, the scenarios
that use this double (queue_scenario.py, scripts/screenshot_panel.py) switch to the real service.

Standard library only, and the add-on's classes are handed in: it runs inside Blender.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any


@dataclasses.dataclass(frozen=True)
class DoubleQueueEntry:
    id: int
    name: str
    jobs: int
    position: int
    added: float


@dataclasses.dataclass(frozen=True)
class DoubleQueueView:
    entries: tuple[DoubleQueueEntry, ...]
    held: bool


class PausedStatus(str):
    """Stands in for ``BatchStatus.PAUSED``: its value, not ended."""

    value = "PAUSED"
    ended = False


PAUSED = PausedStatus("PAUSED")


class PausedBatch:
    """The batch as a pause leaves it: no Blender runs, unfinished jobs QUEUED again."""

    def __init__(self, batch: Any, job_status: Any) -> None:
        self.batch, self.recipe = batch, batch.recipe
        self.running = False
        view = batch.view()
        jobs = tuple(dataclasses.replace(job, status=job_status.QUEUED)
                     if job.status in (job_status.RUNNING, job_status.CANCELLED) else job
                     for job in view.jobs)
        self.revision = view.revision + 1
        self._view = dataclasses.replace(view, status=PAUSED, jobs=jobs, current_job=None,
                                         running_jobs=(), revision=self.revision)

    def view(self) -> Any:
        return self._view

    def cancel(self) -> bool:
        return True


class QueueDoubleMixin:
    """The queue and pause methods; mixed before the real ``BatchService`` (``super()`` is it)."""

    def __init__(self, base: Any, service_error: type[Exception], job_status: Any) -> None:
        super().__init__(base.options, work_dir=base.work_dir, store=None,
                         observers=base.observers)
        self._error, self._job_status = service_error, job_status
        self.calls: list[tuple[Any, ...]] = []
        self._queue: list[tuple[DoubleQueueEntry, Any]] = []
        self._held = False
        self._paused: PausedBatch | None = None
        self._next_id = 1
        self._lock2 = threading.RLock()

    # -- what the add-on reads
    @property
    def batch(self) -> Any:
        return self._paused if self._paused is not None else super().batch

    @property
    def paused(self) -> bool:
        return self._paused is not None

    def queue_view(self) -> DoubleQueueView:
        self._start_next()  # the hand-over, when the add-on's pump reads the queue
        with self._lock2:
            entries = tuple(dataclasses.replace(entry, position=index)
                            for index, (entry, _recipe) in enumerate(self._queue))
            return DoubleQueueView(entries, self._held)

    # -- the queue
    def enqueue(self, recipe: Any) -> DoubleQueueEntry:
        self.calls.append(("enqueue", recipe.name))
        with self._lock2:
            entry = DoubleQueueEntry(self._next_id, recipe.name, len(recipe.enabled_jobs),
                                     len(self._queue), time.time())
            self._next_id += 1
            self._queue.append((entry, recipe))
        self._start_next()
        return entry

    def move_queued(self, queue_id: int, position: int) -> DoubleQueueView:
        self.calls.append(("move_queued", queue_id, position))
        with self._lock2:
            item = self._take(queue_id)
            self._queue.insert(min(position, len(self._queue)), item)
        return self.queue_view()

    def drop_queued(self, queue_id: int) -> None:
        self.calls.append(("drop_queued", queue_id))
        with self._lock2:
            self._take(queue_id)

    def hold_queue(self) -> DoubleQueueView:
        self.calls.append(("hold_queue",))
        self._held = True
        return self.queue_view()

    def continue_queue(self) -> DoubleQueueView:
        self.calls.append(("continue_queue",))
        self._held = False
        self._start_next()
        return self.queue_view()

    def _take(self, queue_id: int) -> tuple[DoubleQueueEntry, Any]:
        for index, (entry, _recipe) in enumerate(self._queue):
            if entry.id == queue_id:
                return self._queue.pop(index)
        raise self._error(f"No queued batch {queue_id}")

    # -- the pause
    def pause(self, when: str = "frame") -> None:
        self.calls.append(("pause", when))
        batch = super().batch
        if self._paused is not None:
            raise self._error("The batch is already paused")
        if batch is None or not batch.running:
            raise self._error("Not running a batch right now")
        batch.cancel()
        batch.wait(30)
        self._paused = PausedBatch(batch, self._job_status)

    def resume(self) -> Any:
        self.calls.append(("resume",))
        paused, self._paused = self._paused, None
        if paused is None:
            return super().resume()
        self.load_recipe(paused.recipe)
        return self.start()

    def cancel(self) -> None:
        """A PAUSED batch ends CANCELLED (its Blender already ended when it paused)."""
        self.calls.append(("cancel",))
        if self._paused is not None:
            self._paused = None
            return
        super().cancel()

    def move_job(self, job_id: int, position: int) -> None:
        self.calls.append(("move_job", job_id, position))

    def set_job_enabled(self, job_id: int, enabled: bool) -> None:
        self.calls.append(("set_job_enabled", job_id, enabled))

    # -- the hand-over the engine does when a batch ends
    def _start_next(self) -> None:
        with self._lock2:
            current = super().batch
            if self._held or self._paused is not None or not self._queue:
                return
            if current is not None and current.running:
                return
            _entry, recipe = self._queue.pop(0)
            self.load_recipe(recipe)
            self.start()


def queue_double_service(service_module: Any, view_module: Any, base: Any) -> Any:
    """A double built like ``base`` (the add-on's own service: same options, work folder and
    observers; no store), with the queue and pause methods."""
    cls = type("QueueDoubleService", (QueueDoubleMixin, service_module.BatchService), {})
    return cls(base, service_module.ServiceError, view_module.JobStatus)
