"""The batch slot's refusals as HTTP answers (docs/api.md, Errors).

Every ``ServiceError`` (``batch/service_errors.py``) carries a sentence for people (``str()``),
which becomes the answer's ``status``, and its HTTP code as ``status``: 404 for an unknown job
or queued batch, 503 when the store holding the queue fails, 409 for a request the batch slot
cannot honour *now*. A batch or queue another live Render+ owns adds ``owner``.
"""

from __future__ import annotations

from typing import Any

from ..batch import ownership
from ..batch.service_errors import BatchOwnedError, ServiceError
from .answers import error_answer


def service_error_answer(exc: ServiceError, **extra: Any) -> Any:
    """The JSON error answer for ``exc``: its sentence as ``status``, plus ``owner`` for a batch
    (or the queue) another live Render+ owns (docs/api.md, One owner per batch)."""
    if isinstance(exc, BatchOwnedError):
        extra["owner"] = ownership.describe(exc.claim)
    return error_answer(exc.status, str(exc), **extra)


def names_the_queue(sentence: str) -> str:
    """A "batch is running" sentence that tells the client where a recipe can go instead."""
    if "POST /queue" in sentence:
        return sentence
    return f"{sentence.rstrip('.')}; or queue the recipe behind it: POST /queue"
