"""The queue of batches behind the current one, over HTTP (docs/api.md, The queue).

``POST /queue`` takes a recipe as ``POST /batch/recipe`` does (validated the same way, relative
paths against the work folder) and appends it; the first queued batch becomes current and starts
by itself when the current one ends, unless the queue is held. ``GET /queue`` lists the queue
(private, as the history is: names and sizes of other people's work); ``PATCH /queue/{id}``
moves one, ``DELETE /queue/{id}`` drops one, ``POST /queue/hold`` and ``/queue/continue`` hold
and release it. The queue itself is the batch slot's (``BatchService``); this module translates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..batch.service import ServiceError
from .answers import error_answer, json_answer
from .request_body import RecipeReader, is_answer, position_of, read_small_json, unknown_keys
from .service_errors import service_error_answer

if TYPE_CHECKING:
    from ..batch.queue import QueueView
    from ..batch.service import BatchService

MAX_QUEUE_ID = 2 ** 63 - 1  # the store's largest integer
POSITION_BODY = '{"position": N} (0 = next)'


def queue_id_of(text: str) -> int | None:
    """A queue id from the URL (plain decimal digits, within the store's integers), or None."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_QUEUE_ID)):
        return None
    value = int(text)
    return value if value <= MAX_QUEUE_ID else None


def wrong_queue_id(text: str) -> Any:
    return error_answer(400, f"Wrong queue id {text[:40]!r}: an integer from 0 is expected "
                             "(the id POST /queue answered; GET /queue lists them)")


def queue_sentence(view: QueueView) -> str:
    """``2 batches queued; the queue is held (POST /queue/continue releases it)``."""
    count = len(view.entries)
    text = "The queue is empty" if not count else f"{count} batch{'es' if count != 1 else ''} queued"
    if view.held:
        text += "; the queue is held (POST /queue/continue releases it)"
    return text


class QueueApi:
    """The queue's routes; one instance per app (``app.create_app``)."""

    def __init__(self, service: BatchService, recipes: RecipeReader) -> None:
        self.service = service
        self.recipes = recipes

    def answer_view(self, view: QueueView, status: str, code: int = 200) -> Any:
        return json_answer({**view.to_json(), "status": status}, code)

    def post_queue(self) -> Any:
        recipe = self.recipes.read()
        if is_answer(recipe):
            return recipe
        try:
            entry = self.service.enqueue(recipe)
            view = self.service.queue_view()
        except ServiceError as exc:
            return service_error_answer(exc)
        started = all(queued.id != entry.id for queued in view.entries)
        if started:
            status = f"Batch {recipe.name!r} started at once: no batch was running"
        else:
            status = f"Batch {recipe.name!r} queued at position {entry.position}"
            if view.held:
                status += "; the queue is held (POST /queue/continue releases it)"
        return json_answer({"status": status, "id": entry.id, "position": entry.position,
                            "started": started, "name": recipe.name, "jobs": len(recipe.jobs),
                            "warnings": [str(issue) for issue in recipe.warnings]}, 201)

    def get_queue(self) -> Any:
        try:
            view = self.service.queue_view()
        except ServiceError as exc:   # the store cannot be read: 503
            return service_error_answer(exc)
        return self.answer_view(view, queue_sentence(view))

    def patch_queue(self, queue_id: str) -> Any:
        number = queue_id_of(queue_id)
        if number is None:
            return wrong_queue_id(queue_id)
        body = read_small_json(f"PATCH /queue/{number}", POSITION_BODY, required=True)
        if is_answer(body):
            return body
        problem = unknown_keys(body, ("position",))
        if problem is not None:
            return problem
        position = position_of(body)
        if is_answer(position):
            return position
        try:
            view = self.service.move_queued(number, position)
        except ServiceError as exc:
            return service_error_answer(exc)
        where = next((entry.position for entry in view.entries if entry.id == number), position)
        return self.answer_view(view, f"Queued batch {number} moved to position {where}")

    def delete_queue(self, queue_id: str) -> Any:
        number = queue_id_of(queue_id)
        if number is None:
            return wrong_queue_id(queue_id)
        try:
            self.service.drop_queued(number)
            view = self.service.queue_view()
        except ServiceError as exc:
            return service_error_answer(exc)
        return self.answer_view(view, f"Queued batch {number} removed from the queue")

    def hold(self) -> Any:
        try:
            view = self.service.hold_queue()
        except ServiceError as exc:
            return service_error_answer(exc)
        return self.answer_view(view, "The queue is held: the current batch goes on, the next "
                                      "one waits for POST /queue/continue")

    def release(self) -> Any:
        try:
            view = self.service.continue_queue()
        except ServiceError as exc:
            return service_error_answer(exc)
        return self.answer_view(view, "The queue goes on: the next batch starts when the "
                                      "current one ends")
