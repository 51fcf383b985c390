"""Changing the current batch and pausing it, over HTTP (docs/api.md, Changing a batch; Pause).

``POST /batch/jobs`` appends jobs (a job object or a list, validated as a recipe's jobs are,
relative paths resolved as the recipe's) to the loaded, running or paused batch; ``PATCH
/batch/jobs/{id}`` moves a queued job (``position``, 0 = next) or skips it (``enabled``);
``POST /batch/pause`` pauses now, after the frame or after the job. What may change and when is
the batch slot's to decide (``BatchService``); this module reads the bodies and answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..batch.pause import PAUSE_WHEN
from ..batch.recipe import RecipeError
from ..batch.recipe.errors import show
from ..batch.service import ServiceError
from .answers import error_answer, json_answer
from .request_body import (
    bad_value,
    decode_json,
    is_answer,
    issues_answer,
    json_body_bytes,
    position_of,
    read_small_json,
    unknown_keys,
)
from .service_errors import service_error_answer

if TYPE_CHECKING:
    from ..batch.service import BatchService

DEFAULT_PAUSE = "frame"
PAUSE_SENTENCES = {
    "now": "Pausing now: every running Blender ends; the frames in progress render again "
           "when the batch continues (GET /batch/resume)",
    "frame": "Pausing after the frame each running job is writing",
    "job": "Pausing once the running jobs have finished",
}
CHANGE_BODY = '{"position": N} (0 = next) and/or {"enabled": true|false}'
PAUSE_BODY = '{"when": "now" | "frame" | "job"}'


def job_id_of(text: str) -> int | None:
    """A job id from the URL (plain decimal digits, as ``GET /batch/jobs/{id}``), or None."""
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


class BatchEditsApi:
    """The edit and pause routes; one instance per app (``app.create_app``)."""

    def __init__(self, service: BatchService, max_body: int) -> None:
        self.service = service
        self.max_body = max_body

    def order(self) -> list[int]:
        """The run order of the batch the polls describe (poll key ``order``)."""
        view = self.service.view()
        return list(view.order) if view is not None else []

    def post_jobs(self) -> Any:
        body = json_body_bytes(self.max_body, "jobs")
        if is_answer(body):
            return body
        try:
            data = decode_json(body)
        except RecipeError as exc:
            return issues_answer(exc, "jobs")
        if not isinstance(data, dict | list) or (isinstance(data, list) and not data):
            return bad_value("", "send a job object, or a non-empty list of them, as in a "
                                 "recipe's jobs")
        try:
            ids = self.service.add_jobs(data)
        except RecipeError as exc:
            return issues_answer(exc, "jobs")
        except ServiceError as exc:
            return service_error_answer(exc)
        added = ", ".join(str(job) for job in ids)
        status = f"Added job{'s' if len(ids) != 1 else ''} {added} at the end of the run order"
        return json_answer({"status": status, "ids": ids, "order": self.order()}, 201)

    def patch_job(self, job_id: str) -> Any:
        number = job_id_of(job_id)
        if number is None:
            return error_answer(400, f"Wrong job id {job_id[:40]!r}: an integer from 0 is expected")
        body = read_small_json(f"PATCH /batch/jobs/{number}", CHANGE_BODY, required=True)
        if is_answer(body):
            return body
        problem = unknown_keys(body, ("position", "enabled"))
        if problem is not None:
            return problem
        change = self._change(body)
        if is_answer(change):
            return change
        position, enabled = change
        done: list[str] = []
        try:
            if enabled is not None:
                self.service.set_job_enabled(number, enabled)
                done.append("queued again at the end" if enabled else "skipped (DISABLED)")
            if position is not None:
                self.service.move_job(number, position)
                done.append(f"moved to position {position} among the queued jobs")
        except ServiceError as exc:
            return service_error_answer(exc, job=number)
        return json_answer({"status": f"Job {number} {' and '.join(done)}", "job": number,
                            "order": self.order()})

    @staticmethod
    def _change(body: dict[str, Any]) -> tuple[int | None, bool | None] | Any:
        """(position, enabled) from the body, either None when not given; or the 400 answer."""
        if not body:
            return bad_value("", f"nothing to change: give {CHANGE_BODY}")
        enabled = body.get("enabled")
        if "enabled" in body and not isinstance(enabled, bool):
            return bad_value("enabled", f"must be true or false; got {show(enabled)}")
        if enabled is False and "position" in body:
            return bad_value("position", "a skipped job (enabled: false) has no position: "
                                         "give one of the two")
        position = position_of(body) if "position" in body else None
        if is_answer(position):
            return position
        return position, enabled

    def pause(self) -> Any:
        body = read_small_json("POST /batch/pause", PAUSE_BODY, required=False)
        if is_answer(body):
            return body
        problem = unknown_keys(body, ("when",))
        if problem is not None:
            return problem
        when = body.get("when", DEFAULT_PAUSE)
        if when not in PAUSE_WHEN:
            return bad_value("when", f"must be one of {_choices(PAUSE_WHEN)}; got {show(when)}")
        try:
            self.service.pause(when)
        except ServiceError as exc:
            return service_error_answer(exc)
        return json_answer({"status": PAUSE_SENTENCES[when], "when": when})


def _choices(values: Sequence[str]) -> str:
    return ", ".join(f'"{value}"' for value in values)
