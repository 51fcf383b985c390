"""The batch slot's refusals as HTTP answers (docs/api.md, Errors).

Every ``ServiceError`` carries a sentence for people (``str()``), which becomes the answer's
``status``; the code comes from the error's ``http_status`` or ``status`` attribute (the batch
slot's errors carry ``status``) when it has one, else from ``HTTP_STATUS`` by class name (so
this module needs none of the classes imported), else 409: a request the batch slot cannot
honour *now*.
"""

from __future__ import annotations

from typing import Any

from ..batch import ownership
from .answers import error_answer

HTTP_STATUS: dict[str, int] = {
    "UnknownJobError": 404,      # PATCH /batch/jobs/{id}: no such job
    "UnknownQueuedError": 404,   # PATCH or DELETE /queue/{id}: no such queued batch
    "BatchRunningError": 409,
    "NoRecipeError": 409,
    "NotRunningError": 409,
    "NothingToResumeError": 409,
    "BatchOwnedError": 409,
    "PauseError": 409,           # already paused, or already pausing
    "BatchEndedError": 409,      # adding jobs to an ended batch, or while the server stops
    "JobNotQueuedError": 409,    # moving or skipping a running or ended job
    "QueuedStartedError": 409,   # DELETE /queue/{id} of the batch that just became current
    "QueueOwnedError": 409,      # another live Render+ runs this store's queue
    "QueueStoreError": 503,      # the store holding the queue cannot be read or written
}


def http_status(exc: Exception) -> int:
    """The HTTP status code for a refusal of the batch slot (or of the engine's edits)."""
    for attribute in ("http_status", "status"):
        code = getattr(exc, attribute, None)
        if isinstance(code, int) and 400 <= code < 600:
            return code
    for kind in type(exc).__mro__:
        if kind.__name__ in HTTP_STATUS:
            return HTTP_STATUS[kind.__name__]
    return 409


def service_error_answer(exc: Exception, **extra: Any) -> Any:
    """The JSON error answer for ``exc``: its sentence as ``status``, plus ``owner`` for a batch
    another live Render+ owns (docs/api.md, One owner per batch)."""
    claim = getattr(exc, "claim", None)
    if claim is not None and any(kind.__name__ == "BatchOwnedError" for kind in type(exc).__mro__):
        extra["owner"] = ownership.describe(claim)
    return error_answer(http_status(exc), str(exc), **extra)


def names_the_queue(sentence: str) -> str:
    """A "batch is running" sentence that tells the client where a recipe can go instead."""
    if "POST /queue" in sentence:
        return sentence
    return f"{sentence.rstrip('.')}; or queue the recipe behind it: POST /queue"
