"""``QueueServiceDouble``: the real ``BatchService`` with the queue, edit and pause methods of
docs/api.md (The queue; Changing a batch; Pause) played by a small stand-in, so the routes and
the CLI clients can be tested for routing, bodies, error mapping and token rules on their own.

Each method refuses as the batch slot does, with an error class of the same name and an
``http``-free sentence; the routes choose the status code from the class name
(``renderplus.server.service_errors``). What the methods did is recorded for the tests.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from renderplus.batch.recipe import Recipe, RecipeError, ValidationIssue
from renderplus.batch.service import BatchService, NoRecipeError, NotRunningError, ServiceError


class PauseError(ServiceError):
    pass


class BatchEndedError(ServiceError):
    pass


class UnknownJobError(ServiceError):
    pass


class JobNotQueuedError(ServiceError):
    pass


class UnknownQueuedError(ServiceError):
    pass


class QueuedStartedError(ServiceError):
    pass


@dataclass(frozen=True)
class EntryDouble:
    id: int
    name: str
    jobs: int
    position: int
    added: float
    estimated_start: float | None = None
    estimated_end: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "jobs": self.jobs, "position": self.position,
                "added": self.added, "estimated_start": None, "estimated_end": None}


@dataclass(frozen=True)
class QueueViewDouble:
    entries: tuple[EntryDouble, ...]
    held: bool

    def to_json(self) -> dict[str, Any]:
        return {"held": self.held, "batches": [entry.to_json() for entry in self.entries]}


@dataclass(frozen=True)
class OrderDouble:
    order: tuple[int, ...]


@dataclass
class SlotState:
    """What the double's batch is: ``state`` "idle", "running" or "paused"; its jobs' run order
    and which of them run or have ended."""

    state: str = "idle"
    loaded: bool = True
    ended: bool = False
    order: list[int] = field(default_factory=lambda: [0, 1, 2])
    disabled: list[int] = field(default_factory=list)
    running_jobs: set[int] = field(default_factory=set)
    pausing: str | None = None


class QueueServiceDouble(BatchService):
    """A real ``BatchService`` (recipes, batches, polls as ever) with the queue, edit and pause
    methods played by a stand-in: ``slot`` says what the current batch is, ``queued`` holds the
    queue, ``calls`` records each call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slot = SlotState()
        self.queued: list[EntryDouble] = []
        self.held = False
        self.start_at_once = False
        self.current_queue_id: int | None = None  # dropped: "it became the current batch"
        self.enqueued: list[Recipe] = []
        self.calls: list[tuple[str, Any]] = []
        self._next_id = 1

    # ------------------------------------------------------------------ pause
    @property
    def paused(self) -> bool:
        return self.slot.state == "paused"

    def pause(self, when: str = "frame") -> None:
        if self.slot.state == "paused":
            raise PauseError("The batch is already paused")
        if self.slot.state != "running":
            raise NotRunningError()
        strength = ("job", "frame", "now")
        if self.slot.pausing is not None and strength.index(when) <= strength.index(self.slot.pausing):
            raise PauseError(f"The batch is already pausing (after the {self.slot.pausing})")
        self.slot.pausing = when
        self.calls.append(("pause", when))

    # ------------------------------------------------------------------ queue
    def enqueue(self, recipe: Recipe) -> EntryDouble:
        entry = EntryDouble(self._next_id, recipe.name, len(recipe.jobs), len(self.queued), time.time())
        self._next_id += 1
        self.enqueued.append(recipe)
        if self.start_at_once and not self.held:
            return EntryDouble(entry.id, entry.name, entry.jobs, 0, entry.added)
        self.queued.append(entry)
        return entry

    def queue_view(self) -> QueueViewDouble:
        entries = tuple(EntryDouble(e.id, e.name, e.jobs, index, e.added)
                        for index, e in enumerate(self.queued))
        return QueueViewDouble(entries, self.held)

    def _find(self, queue_id: int) -> EntryDouble:
        if queue_id == self.current_queue_id:
            raise QueuedStartedError(f"Queued batch {queue_id} has just become the current batch: "
                                     "DELETE /batch cancels it")
        for entry in self.queued:
            if entry.id == queue_id:
                return entry
        raise UnknownQueuedError(f"No queued batch has the id {queue_id} (GET /queue lists them)")

    def move_queued(self, queue_id: int, position: int) -> QueueViewDouble:
        entry = self._find(queue_id)
        self.queued.remove(entry)
        self.queued.insert(position, entry)
        return self.queue_view()

    def drop_queued(self, queue_id: int) -> None:
        self.queued.remove(self._find(queue_id))

    def hold_queue(self) -> QueueViewDouble:
        self.held = True
        return self.queue_view()

    def continue_queue(self) -> QueueViewDouble:
        self.held = False
        return self.queue_view()

    # ------------------------------------------------------------------ edits
    def add_jobs(self, data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[int]:
        if not self.slot.loaded:
            raise NoRecipeError()
        if self.slot.ended:
            raise BatchEndedError("The batch has ended: jobs can only be added to a loaded, "
                                  "running or paused batch")
        jobs = [data] if isinstance(data, Mapping) else list(data)
        issues = [ValidationIssue(f"jobs[{index}].frame_end", "must be an integer")
                  for index, job in enumerate(jobs) if not isinstance(job.get("frame_end", 1), int)]
        if issues:
            raise RecipeError(issues)
        first = max(self.slot.order + self.slot.disabled) + 1
        ids = list(range(first, first + len(jobs)))
        self.slot.order += ids
        self.calls.append(("add_jobs", jobs))
        return ids

    def _queued_job(self, job_id: int) -> None:
        if job_id not in self.slot.order and job_id not in self.slot.disabled:
            raise UnknownJobError(f"No job {job_id} in this batch")
        if job_id in self.slot.running_jobs:
            raise JobNotQueuedError(f"Job {job_id} is RUNNING: only a queued job can be moved or skipped")

    def move_job(self, job_id: int, position: int) -> None:
        self._queued_job(job_id)
        self.slot.order.remove(job_id)
        self.slot.order.insert(position, job_id)
        self.calls.append(("move_job", (job_id, position)))

    def set_job_enabled(self, job_id: int, enabled: bool) -> None:
        self._queued_job(job_id)
        if enabled and job_id in self.slot.disabled:
            self.slot.disabled.remove(job_id)
            self.slot.order.append(job_id)
        elif not enabled and job_id in self.slot.order:
            self.slot.order.remove(job_id)
            self.slot.disabled.append(job_id)
        self.calls.append(("set_job_enabled", (job_id, enabled)))

    def view(self) -> Any:
        """The run order as the poll's ``order`` gives it (disabled jobs last)."""
        return OrderDouble(tuple(self.slot.order + sorted(self.slot.disabled)))
