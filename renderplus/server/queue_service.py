"""What the queue, edit and pause routes ask of the batch slot, as typing protocols.

``BatchService`` (``batch/service.py``) provides all of it (docs/engine-api.md); the routes see
the slot through ``QueueService`` so that they name exactly what they use: the queue of batches
behind the current one (docs/api.md, The queue), changing a batch (Changing a batch) and the
pause (Pause). Each method raises a ``ServiceError`` with a sentence when it cannot do what is
asked now; ``service_errors`` turns it into the HTTP answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ..batch.recipe import Recipe


class QueueEntryLike(Protocol):
    """One queued batch (``batch.queue.QueueEntry``)."""

    id: int
    name: str
    jobs: int
    position: int

    def to_json(self) -> dict[str, Any]: ...


class QueueViewLike(Protocol):
    """The queue as it stands (``batch.queue.QueueView``)."""

    held: bool

    @property
    def entries(self) -> Sequence[QueueEntryLike]: ...

    def to_json(self) -> dict[str, Any]: ...


class OrderedView(Protocol):
    """The part of a batch's poll (``BatchView``) the edit routes answer with."""

    order: tuple[int, ...]


class QueueService(Protocol):
    """The batch slot's queue, edit and pause operations (``BatchService``)."""

    @property
    def paused(self) -> bool: ...

    def enqueue(self, recipe: Recipe) -> QueueEntryLike: ...

    def queue_view(self) -> QueueViewLike: ...

    def move_queued(self, queue_id: int, position: int) -> QueueViewLike: ...

    def drop_queued(self, queue_id: int) -> None: ...

    def hold_queue(self) -> QueueViewLike: ...

    def continue_queue(self) -> QueueViewLike: ...

    def add_jobs(self, data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[int]: ...

    def move_job(self, job_id: int, position: int) -> None: ...

    def set_job_enabled(self, job_id: int, enabled: bool) -> None: ...

    def pause(self, when: str = "frame") -> None: ...

    def view(self) -> Any: ...
