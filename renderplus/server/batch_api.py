"""The REST API's operations (docs/api.md, Routes), one method per route, over the batch slot.

``BatchApi`` only translates HTTP to the batch slot (``BatchService``) and back; all batch state
lives there, so the add-on, the CLI and the API see one truth. Which path and method reach which
method is the route table in ``app.py``.

What the polls describe (docs/api.md, Polling before the start): with no recipe at all the poll
routes answer 409; once a recipe is loaded (and until it is started) they describe it as a
``WAITING`` batch whose jobs are ``QUEUED``/``DISABLED``, so a client can see what it submitted.
After a batch, polls describe that batch until a new recipe is loaded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from ..batch import ownership
from ..batch.runner import Batch
from ..batch.service import (
    BatchOwnedError,
    BatchRunningError,
    BatchService,
    NoRecipeError,
    NothingToResumeError,
    NotRunningError,
    OutsideWindowError,
)
from ..batch.store import StoreError
from ..batch.view import JobStatus, JobView
from .answers import JSON_TYPE, error_answer, json_answer
from .bottle_loader import bottle
from .movie_route import movie_problem, send_movie
from .openapi import openapi_document
from .public_poll import PublicPolls, public_job, token_shown
from .request_body import RecipeReader, body_length, is_answer
from .service_errors import names_the_queue
from .upload import MULTIPART_SLACK, UploadError, raw_chunks, receive_multipart, safe_blend_name, store_stream
from .version import API_VERSION, SERVER_NAME, VERSION

log = logging.getLogger("renderplus.server")

DEFAULT_MAX_UPLOAD = 2 * 1024 ** 3   # 2 GiB
DEFAULT_MAX_RECIPE = 8 * 1024 ** 2   # 8 MiB: 10,000 jobs of about 800 bytes each (413 beyond)
CANCEL_WAIT = 10.0                   # DELETE /batch answers once the batch has ended, or after this
MAX_HISTORY_PAGE = 500               # GET /batches?limit=
MAX_OFFSET = 2 ** 63 - 1             # the store's (SQLite's) largest integer


class BatchApi:
    """The operations behind the routes; one instance per app (``app.create_app``)."""

    def __init__(self, service: BatchService, *, on_stop: Callable[[], None] | None = None,
                 max_upload: int = DEFAULT_MAX_UPLOAD, max_recipe: int = DEFAULT_MAX_RECIPE,
                 cancel_wait: float = CANCEL_WAIT) -> None:
        self.service = service
        self.on_stop = on_stop
        self.max_upload = max_upload
        self.max_recipe = max_recipe
        self.cancel_wait = cancel_wait
        self.recipes = RecipeReader(service.work_dir, max_recipe)  # one parse at a time
        self._public_polls = PublicPolls()  # the poll without the token, once per revision

    # ---------------------------------------------------------------- helpers

    def shown_batch(self) -> Batch | None:
        """The batch that polls describe (see the module docstring), or None."""
        return self.service.shown

    @staticmethod
    def no_batch() -> Any:
        return error_answer(409, "No batch has been run: submit a recipe (POST /batch/recipe) "
                                 "and start it (GET /batch/start)")

    def busy(self) -> bool:
        """A batch runs or is paused: both block a new recipe, upload and start (docs/api.md,
        While a batch runs)."""
        return self.service.running or self.service.paused

    def busy_sentence(self) -> str:
        if self.service.running:
            return str(BatchRunningError())
        return ("A batch is paused: continue it (GET /batch/resume) or cancel it (DELETE /batch) "
                "first")

    def blender_problem(self) -> str | None:
        """Why the loaded recipe's jobs would find no Blender ("auto": for each file), or None."""
        return "; ".join(self.service.blender_problems()) or None

    # ---------------------------------------------------------------- routes

    def test(self) -> Any:
        batch = self.service.batch
        return json_answer({
            "status": f"{SERVER_NAME} {VERSION} is running",
            "name": SERVER_NAME, "version": VERSION, "api_version": API_VERSION,
            "blender_bin": self.service.blender_bin,
            "blender_found": self.blender_problem() is None,
            "running": self.service.running,
            "paused": self.service.paused,
            "batch": batch.status if batch is not None else None,
            "farm": self.service.farm_status() if self.service.farm_status else None,
        })

    def ready(self) -> Any:
        reasons = []
        if self.busy():
            reasons.append("A batch is running" if self.service.running else "A batch is paused")
        if self.service.recipe is None:
            reasons.append("No recipe submitted yet: POST one to /batch/recipe")
        problem = self.blender_problem()
        if problem:
            reasons.append(problem)
        return json_answer({"ready": not reasons, "reasons": reasons,
                            "status": "; ".join(reasons) if reasons else "Ready to start the batch",
                            "blender_bin": self.service.blender_bin})

    def post_recipe(self) -> Any:
        mime = bottle.request.content_type.split(";")[0].strip()
        if mime != JSON_TYPE and not (mime.startswith("application/") and mime.endswith("+json")):
            return error_answer(406, f"Wrong content type {mime or '(none)'!r}: "
                                     f"send the recipe as {JSON_TYPE}")
        if self.busy():
            return self.recipe_refused(self.busy_sentence())
        recipe = self.recipes.read()
        if is_answer(recipe):
            return recipe
        try:
            self.service.load_recipe(recipe)
        except BatchRunningError as exc:
            return self.recipe_refused(str(exc))
        enabled = len(recipe.enabled_jobs)
        warnings = [str(issue) for issue in recipe.warnings]  # unknown keys, with did-you-mean
        warnings += [f"job {job.id}: .blend file not found: {recipe.resolve(job.source_file)}"
                     for job in recipe.enabled_jobs if not os.path.isfile(recipe.resolve(job.source_file))]
        problem = self.blender_problem()
        if problem:
            warnings.append(problem)
        return json_answer({"status": f"Recipe loaded: {len(recipe.jobs)} jobs, {enabled} enabled",
                            "name": recipe.name, "jobs": len(recipe.jobs), "enabled": enabled,
                            "warnings": warnings})

    @staticmethod
    def recipe_refused(sentence: str) -> Any:
        """409 for a recipe while a batch runs or is paused: the sentence names POST /queue."""
        return error_answer(409, names_the_queue(sentence))

    def post_file(self) -> Any:
        if self.busy():
            return error_answer(409, self.busy_sentence())
        raw_type = bottle.request.environ.get("CONTENT_TYPE", "")
        mime = raw_type.split(";")[0].strip().lower()
        folder = self.service.work_dir
        try:
            if mime == "multipart/form-data":
                length = body_length(self.max_upload + MULTIPART_SLACK, "upload")
                if not isinstance(length, int):
                    return length
                stored = receive_multipart(bottle.request.environ["wsgi.input"], length, raw_type,
                                           folder, self.max_upload)
            elif mime == "application/octet-stream":
                name = bottle.request.query.getunicode("name") or ""
                if not name:
                    return error_answer(400, "Name the file: POST /batch/file?name=FILE.blend")
                safe = safe_blend_name(name)
                length = body_length(self.max_upload, "upload")
                if not isinstance(length, int):
                    return length
                stored = store_stream(raw_chunks(bottle.request.environ["wsgi.input"], length),
                                      folder, safe, self.max_upload)
            else:
                return error_answer(400, f"Not a .blend upload (content type {mime or '(none)'!r}): send "
                                         "multipart/form-data with a 'file' field, or "
                                         "application/octet-stream with ?name=FILE.blend")
        except UploadError as exc:
            return error_answer(exc.code, str(exc), **({"limit": self.max_upload} if exc.code == 413 else {}))
        log.info("stored upload %s (%d bytes)", stored.path, stored.size)
        return json_answer({"status": f"Stored {stored.name} ({stored.size} bytes)",
                            "path": str(stored.path), "name": stored.name, "size": stored.size}, 201)

    def start(self) -> Any:
        if self.busy():
            return error_answer(409, self.busy_sentence())
        if self.service.recipe is None:
            return error_answer(409, str(NoRecipeError()))
        problem = self.blender_problem()
        if problem:
            return error_answer(409, f"Cannot start: {problem}")
        try:
            batch = self.service.start()
        except (BatchRunningError, NoRecipeError) as exc:
            return error_answer(409, str(exc))
        return json_answer({"status": "Batch started", "name": batch.recipe.name,
                            "jobs": len(batch.recipe.enabled_jobs), "blender_bin": batch.blender_bin})

    def resume(self) -> Any:
        """Extension: continue the paused batch in place or the interrupted one, or re-run the
        last batch's failed and cancelled jobs; only missing or unverified frames render."""
        paused = self.service.paused
        problem = self.blender_problem()
        if problem and not self.service.running:
            return error_answer(409, f"Cannot resume: {problem}")
        try:
            batch = self.service.resume()
        except BatchOwnedError as exc:   # another live Render+ runs it (docs/api.md, Errors)
            return error_answer(409, str(exc), owner=ownership.describe(exc.claim))
        except (BatchRunningError, NothingToResumeError, OutsideWindowError) as exc:
            return error_answer(409, str(exc))
        view = batch.view()
        return json_answer({"status": "Batch continued" if paused else "Batch resumed",
                            "name": batch.recipe.name,
                            "jobs": sum(1 for job in view.jobs if job.status is JobStatus.QUEUED
                                        or job.status is JobStatus.RUNNING)})

    def history(self) -> Any:
        """Extension: past batches from the durable store, newest first (``?limit=&offset=``)."""
        try:
            limit = query_int("limit", 50, 1, MAX_HISTORY_PAGE)
            offset = query_int("offset", 0, 0, MAX_OFFSET)
        except QueryError as exc:
            return error_answer(400, str(exc), parameter=exc.name)
        try:
            batches = self.service.history(limit, offset)
        except StoreError as exc:
            return error_answer(503, f"The batch store cannot be read: {exc}")
        return json_answer({"batches": [summary.to_json() for summary in batches],
                            "limit": limit, "offset": offset})

    def poll(self) -> Any:
        batch = self.shown_batch()
        if batch is None:
            return self.no_batch()
        view = batch.view()  # one frozen view per revision, its JSON encoded once for everyone
        full = token_shown(bottle.request.environ)  # else no hook commands, output or paths
        etag = f'W/"{id(batch):x}-{view.revision}{"" if full else "-p"}"'
        if bottle.request.get_header("If-None-Match") == etag:
            return bottle.HTTPResponse(status=304, headers={"ETag": etag})
        body = view.json_bytes if full else self._public_polls.body(view)
        return bottle.HTTPResponse(body, status=200, headers={
            "Content-Type": JSON_TYPE, "ETag": etag, "Cache-Control": "no-cache"})

    def name(self) -> Any:
        batch = self.shown_batch()
        if batch is None:
            return self.no_batch()
        return json_answer({"name": batch.recipe.name})

    def job(self, job_id: str) -> Any:
        found = self.job_view(job_id)
        if not isinstance(found, JobView):
            return found
        return json_answer(found.to_json() if token_shown(bottle.request.environ) else public_job(found))

    def movie(self, job_id: str) -> Any:
        """The job's movie file (Range and HEAD work: a ``<video>`` seeks in it); 404 until it
        is made, or once it is gone from disk (docs/api.md, Poll)."""
        found = self.job_view(job_id)
        if not isinstance(found, JobView):
            return found
        problem = movie_problem(found.id, found.movie)
        if problem is not None:
            return error_answer(404, problem)
        assert found.movie is not None
        return send_movie(str(found.movie["path"]))

    def job_view(self, job_id: str) -> JobView | Any:
        """The shown batch's job ``job_id`` (the URL's text), or the 400/409 answer saying why
        there is none."""
        if not job_id:
            return error_answer(400, "Missing job index: GET /batch/jobs/ID, ID from 0")
        if not job_id.isascii() or not job_id.isdigit() or len(job_id) > 9:
            return error_answer(400, f"Wrong job index {job_id!r}: an integer from 0 is expected")
        batch = self.shown_batch()
        if batch is None:
            return self.no_batch()
        index = int(job_id)
        try:
            return batch.view().job(index)
        except IndexError:
            count = len(batch.recipe.jobs)
            known = f"ids 0-{count - 1}" if count else "it has no jobs"
            return error_answer(400, f"No job {index} in this batch ({known})")

    def cancel(self) -> Any:
        batch = self.service.batch
        was_running = self.busy()  # a paused batch is cancelled too (it ends CANCELLED at once)
        try:
            self.service.cancel()
        except NotRunningError as exc:
            return error_answer(409, str(exc))
        if batch is not None and was_running:
            batch.wait(self.cancel_wait)
            return json_answer({"status": "Batch cancelled" if not batch.running else "Batch cancelling",
                                "batch": batch.status})
        return json_answer({"status": "Pending power action called off",
                            "batch": batch.status if batch else None})

    def cancel_job(self) -> Any:
        view = self.service.view()
        current = view.current_job if view is not None else None
        try:
            self.service.cancel_current_job()
        except NotRunningError as exc:
            if self.service.running:  # between jobs: the batch's own hooks are running
                return error_answer(409, "No render job is running right now (the batch runs its hooks)")
            return error_answer(409, str(exc))
        return json_answer({"status": f"Job {current} cancelled; the batch goes on", "job": current})

    def cancel_job_by_id(self, job_id: str) -> Any:
        """An extension: cancel any one job; a queued one becomes CANCELLED, an ended one 409."""
        if not job_id.isascii() or not job_id.isdigit() or len(job_id) > 9:
            return error_answer(400, f"Wrong job index {job_id!r}: an integer from 0 or 'current'")
        index = int(job_id)
        batch = self.shown_batch()
        if batch is None:
            return self.no_batch()
        count = len(batch.recipe.jobs)
        if index >= count:
            return error_answer(400, f"No job {index} in this batch (ids 0-{count - 1})" if count
                                else f"No job {index}: this batch has no jobs")
        try:
            self.service.cancel_job(index)
        except NotRunningError:
            if not self.service.running:
                return error_answer(409, str(NotRunningError()))
            status = batch.view().job(index).status
            return error_answer(409, f"Job {index} cannot be cancelled: it is {status.value}",
                                job=index)
        return json_answer({"status": f"Job {index} cancelled; the batch goes on", "job": index})

    def stop_server(self) -> Any:
        if self.on_stop is None:
            return error_answer(501, "This server cannot be stopped over HTTP")
        cancelled = False
        if self.service.running:
            try:
                self.service.cancel()
                cancelled = True
            except NotRunningError:
                pass
        self.on_stop()
        note = " (the running batch was cancelled)" if cancelled else ""
        return json_answer({"status": "Server stopping" + note, "cancelled": cancelled})

    def openapi(self) -> Any:
        return json_answer(openapi_document())


class QueryError(ValueError):
    """A query parameter that is not an integer in its range; ``str()`` says which and why."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def query_int(name: str, default: int, low: int, high: int) -> int:
    """The integer query parameter ``name`` (``default`` when absent), ``low`` to ``high``.

    Only plain ASCII decimal digits count (``int()`` alone would take ``1_0``, ``+5`` or Arabic
    digits), and the range is checked before the value reaches the store, whose integers end at
    2**63-1 (docs/api.md, Errors)."""
    text = bottle.request.query.get(name)
    if text is None:
        return default
    bounds = f"{name} must be an integer from {low} to {high}"
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        raise QueryError(name, f"{bounds}; got {text[:40]!r}")
    value = int(text)
    if not low <= value <= high:
        raise QueryError(name, f"{bounds}; got {value}")
    return value

