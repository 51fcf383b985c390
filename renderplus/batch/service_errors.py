"""What the batch slot (``service``) refuses, each a sentence for people and an HTTP status.

``renderplus.batch.service`` re-exports every name here; the server answers a ``ServiceError``
with its ``status`` and ``str(exc)`` (docs/api.md, Errors).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .edits import EditRefused, NoSuchJob
from .store.claims import ClaimRefused

T = TypeVar("T")


class ServiceError(Exception):
    """A request the batch slot cannot honour now; ``str()`` is a sentence for people."""

    status = 409


class BatchRunningError(ServiceError):
    def __init__(self, paused: bool = False, waits_until: str | None = None) -> None:
        super().__init__("A batch is paused; continue it (GET /batch/resume), cancel it, or add "
                         "this one to the queue (POST /queue)" if paused else
                         f"A batch waits to start at {waits_until}; cancel it, or add this one "
                         "to the queue (POST /queue)" if waits_until else
                         "A batch is already running; cancel it or wait until it ends")


class OutsideWindowError(ServiceError):
    """A paused batch asked to continue while its window is closed: it continues by itself
    at the window's next start (docs/api.md, When to render)."""


class PauseError(ServiceError):
    """The batch is already paused, or already pausing (docs/api.md, Pause)."""


class NoRecipeError(ServiceError):
    def __init__(self) -> None:
        super().__init__("No recipe submitted yet: POST one to /batch/recipe first")


class NotRunningError(ServiceError):
    def __init__(self) -> None:
        super().__init__("Not running a batch right now")


class BatchOwnedError(ServiceError):
    """Another live Render+ owns the batch (docs/api.md, Errors): ``claim`` says which process
    and since when."""

    def __init__(self, refused: ClaimRefused) -> None:
        super().__init__(str(refused))
        self.claim = refused.claim


class NothingToResumeError(ServiceError):
    def __init__(self, why: str = "") -> None:
        super().__init__(why or "Nothing to resume: no batch was interrupted, and the last batch "
                                "has no failed or cancelled job")


class UnknownQueuedError(ServiceError):
    """No queued batch with that id (docs/api.md, The queue)."""

    status = 404

    def __init__(self, queue_id: int, started: bool = False) -> None:
        super().__init__(f"Queued batch {queue_id} is not in the queue any more: it has started"
                         if started else f"No queued batch {queue_id}: GET /queue lists them")
        self.queue_id = queue_id


class QueuedStartedError(ServiceError):
    """The queued batch has become the current one: ``DELETE /batch`` cancels it."""

    def __init__(self, queue_id: int) -> None:
        super().__init__(f"Queued batch {queue_id} has started: it is the current batch now; "
                         "DELETE /batch cancels it")
        self.queue_id = queue_id


class QueueOwnedError(BatchOwnedError):
    """Another live Render+ runs the queue on this store (it is owned by one process)."""


class QueueStoreError(ServiceError):
    """The store holding the queue cannot be read or written (full disk, locked, damaged)."""

    status = 503

    def __init__(self, exc: Exception) -> None:
        super().__init__(f"The queue cannot be changed now: {exc}")


class BatchEndedError(ServiceError):
    """Jobs cannot be added to or moved in a batch that has ended or is ending (409)."""


class UnknownJobError(ServiceError):
    """No job with that id in the batch (404)."""

    status = 404


class JobNotQueuedError(ServiceError):
    """The job is running, has ended or is starting: only a queued job moves (409)."""


def edit_refusals(change: Callable[..., T], batch: object) -> T:
    """Run an edit of ``batch``; the engine's refusals as the slot's errors (each with its
    sentence): NoSuchJob -> UnknownJobError, EditRefused -> BatchEndedError when the batch has
    ended or is ending, else JobNotQueuedError."""
    try:
        return change(batch)
    except NoSuchJob as exc:
        raise UnknownJobError(str(exc)) from exc
    except EditRefused as exc:
        raise (BatchEndedError if exc.ended else JobNotQueuedError)(str(exc)) from exc
