"""The REST API (docs/api.md, Routes) as a Bottle app.

Every answer is JSON, errors included: an error body always has a ``status`` sentence
(docs/api.md, Errors), Bottle's own 404/405/500 pages too. The routes only translate HTTP to
the batch slot (``BatchService``) and back; all batch state lives there, so the add-on, the CLI
and this app see one truth.

What the polls describe (docs/api.md, Polling before the start): with no recipe at all the poll
routes answer 409; once a recipe is loaded (and until it is started) they describe it as a
``WAITING`` batch whose jobs are ``QUEUED``/``DISABLED``, so a client can see what it submitted.
After a batch, polls describe that batch until a new recipe is loaded.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from ..batch.preflight import find_binary
from ..batch.recipe import RecipeError, parse_recipe
from ..batch.runner import Batch
from ..batch.service import (
    BatchRunningError,
    BatchService,
    NoRecipeError,
    NothingToResumeError,
    NotRunningError,
)
from ..batch.store import StoreError
from ..batch.view import JobStatus
from .bottle_loader import bottle
from .dashboard_routes import register_dashboard
from .openapi import openapi_document
from .upload import MULTIPART_SLACK, UploadError, raw_chunks, receive_multipart, safe_blend_name, store_stream
from .version import API_VERSION, SERVER_NAME, VERSION

log = logging.getLogger("renderplus.server")

DEFAULT_MAX_UPLOAD = 2 * 1024 ** 3   # 2 GiB
DEFAULT_MAX_RECIPE = 8 * 1024 ** 2   # 8 MiB: 10,000 jobs of about 800 bytes each (413 beyond)
CANCEL_WAIT = 10.0                   # DELETE /batch answers once the batch has ended, or after this
JSON_TYPE = "application/json"


def json_answer(data: Any, code: int = 200, headers: dict[str, str] | None = None) -> Any:
    """A JSON HTTP response (returned, not raised, so Bottle's error pages never see it)."""
    body = data if isinstance(data, str) else json.dumps(data)
    return bottle.HTTPResponse(body, status=code, headers={"Content-Type": JSON_TYPE, **(headers or {})})


def error_answer(code: int, status: str, **extra: Any) -> Any:
    return json_answer({"status": status, **extra}, code)


class BatchApi:
    """The routes; one instance per app."""

    def __init__(self, service: BatchService, *, on_stop: Callable[[], None] | None = None,
                 max_upload: int = DEFAULT_MAX_UPLOAD, max_recipe: int = DEFAULT_MAX_RECIPE,
                 cancel_wait: float = CANCEL_WAIT) -> None:
        self.service = service
        self.on_stop = on_stop
        self.max_upload = max_upload
        self.max_recipe = max_recipe
        self.cancel_wait = cancel_wait
        self._parsing = threading.Lock()  # one recipe parsed at a time: N big bodies never N x the memory

    # ---------------------------------------------------------------- helpers

    def shown_batch(self) -> Batch | None:
        """The batch that polls describe (see the module docstring), or None."""
        return self.service.shown

    @staticmethod
    def no_batch() -> Any:
        return error_answer(409, "No batch has been run: submit a recipe (POST /batch/recipe) "
                                 "and start it (GET /batch/start)")

    @staticmethod
    def body_length(limit: int, what: str) -> int | Any:
        """The request's Content-Length, or the error answer to give instead."""
        environ = bottle.request.environ
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return error_answer(411, f"Send the {what} with a Content-Length "
                                     "(chunked bodies are not accepted)")
        if not environ.get("CONTENT_LENGTH"):
            return error_answer(411, f"Send the {what} with a Content-Length header")
        length = bottle.request.content_length
        if length > limit:
            return error_answer(413, f"The {what} is too large: {length} bytes, the limit is {limit}",
                                limit=limit)
        return length

    def blender_problem(self) -> str | None:
        binary = self.service.blender_bin
        return None if find_binary(binary) else f"Blender binary not found: {binary}"

    # ---------------------------------------------------------------- routes

    def test(self) -> Any:
        batch = self.service.batch
        return json_answer({
            "status": f"{SERVER_NAME} {VERSION} is running",
            "name": SERVER_NAME, "version": VERSION, "api_version": API_VERSION,
            "blender_bin": self.service.blender_bin,
            "blender_found": self.blender_problem() is None,
            "running": self.service.running,
            "batch": batch.status if batch is not None else None,
            "farm": self.service.farm_status() if self.service.farm_status else None,
        })

    def ready(self) -> Any:
        reasons = []
        if self.service.running:
            reasons.append("A batch is running")
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
        if self.service.running:
            return error_answer(409, str(BatchRunningError()))
        length = self.body_length(self.max_recipe, "recipe")
        if not isinstance(length, int):
            return length
        try:
            body = raw_body(length)
        except UploadError as exc:
            return error_answer(exc.code, str(exc))
        try:
            with self._parsing:
                recipe = parse_recipe(body, base_dir=str(self.service.work_dir))
        except RecipeError as exc:
            count = len(exc.errors)
            return error_answer(400, f"Invalid recipe: {count} error{'s' if count != 1 else ''}",
                                errors=[issue.to_dict() for issue in exc.errors])
        try:
            self.service.load_recipe(recipe)
        except BatchRunningError as exc:
            return error_answer(409, str(exc))
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

    def post_file(self) -> Any:
        if self.service.running:
            return error_answer(409, str(BatchRunningError()))
        raw_type = bottle.request.environ.get("CONTENT_TYPE", "")
        mime = raw_type.split(";")[0].strip().lower()
        folder = self.service.work_dir
        try:
            if mime == "multipart/form-data":
                length = self.body_length(self.max_upload + MULTIPART_SLACK, "upload")
                if not isinstance(length, int):
                    return length
                stored = receive_multipart(bottle.request.environ["wsgi.input"], length, raw_type,
                                           folder, self.max_upload)
            elif mime == "application/octet-stream":
                name = bottle.request.query.getunicode("name") or ""
                if not name:
                    return error_answer(400, "Name the file: POST /batch/file?name=FILE.blend")
                safe = safe_blend_name(name)
                length = self.body_length(self.max_upload, "upload")
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
        if self.service.running:
            return error_answer(409, str(BatchRunningError()))
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
                            "jobs": len(batch.recipe.enabled_jobs)})

    def resume(self) -> Any:
        """Extension: continue the interrupted batch, or re-run the last batch's failed and
        cancelled jobs; only missing or unverified frames render."""
        problem = self.blender_problem()
        if problem and not self.service.running:
            return error_answer(409, f"Cannot resume: {problem}")
        try:
            batch = self.service.resume()
        except (BatchRunningError, NothingToResumeError) as exc:
            return error_answer(409, str(exc))
        view = batch.view()
        return json_answer({"status": "Batch resumed", "name": batch.recipe.name,
                            "jobs": sum(1 for job in view.jobs if job.status is JobStatus.QUEUED
                                        or job.status is JobStatus.RUNNING)})

    def history(self) -> Any:
        """Extension: past batches from the durable store, newest first (``?limit=&offset=``)."""
        query = bottle.request.query
        try:
            limit = int(query.get("limit", "50"))
            offset = int(query.get("offset", "0"))
            if not (1 <= limit <= 500 and offset >= 0):
                raise ValueError
        except ValueError:
            return error_answer(400, "limit must be 1-500 and offset 0 or more")
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
        etag = f'W/"{id(batch):x}-{view.revision}"'
        if bottle.request.get_header("If-None-Match") == etag:
            return bottle.HTTPResponse(status=304, headers={"ETag": etag})
        return bottle.HTTPResponse(view.json_bytes, status=200, headers={
            "Content-Type": JSON_TYPE, "ETag": etag, "Cache-Control": "no-cache"})

    def name(self) -> Any:
        batch = self.shown_batch()
        if batch is None:
            return self.no_batch()
        return json_answer({"name": batch.recipe.name})

    def job(self, job_id: str) -> Any:
        if not job_id:
            return error_answer(400, "Missing job index: GET /batch/jobs/ID, ID from 0")
        if not job_id.isascii() or not job_id.isdigit() or len(job_id) > 9:
            return error_answer(400, f"Wrong job index {job_id!r}: an integer from 0 is expected")
        batch = self.shown_batch()
        if batch is None:
            return self.no_batch()
        index = int(job_id)
        try:
            return json_answer(batch.view().job(index).to_json())
        except IndexError:
            count = len(batch.recipe.jobs)
            known = f"ids 0-{count - 1}" if count else "it has no jobs"
            return error_answer(400, f"No job {index} in this batch ({known})")

    def cancel(self) -> Any:
        batch = self.service.batch
        was_running = self.service.running
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


def raw_body(length: int) -> bytes:
    """Exactly ``length`` bytes of the request body (small bodies only: recipes).

    UploadError(408) when the client stops sending (the server's ``BodyTimeoutError``)."""
    try:
        return b"".join(raw_chunks(bottle.request.environ["wsgi.input"], length))
    except TimeoutError as exc:
        raise UploadError(408, str(exc) or "The request body stalled") from None


ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/batch/recipe", "post_recipe"),
    ("POST", "/batch/file", "post_file"),
    ("GET", "/batch/start", "start"),
    ("GET", "/batch/resume", "resume"),
    ("GET", "/batches", "history"),
    ("GET", "/test", "test"),
    ("GET", "/batch", "poll"),
    ("GET", "/batch/ready", "ready"),
    ("DELETE", "/batch", "cancel"),
    ("GET", "/batch/name", "name"),
    ("GET", "/batch/jobs/<job_id:re:.*>", "job"),
    ("DELETE", "/batch/jobs/current", "cancel_job"),
    ("DELETE", "/batch/jobs/<job_id:re:.*>", "cancel_job_by_id"),
    ("DELETE", "/server", "stop_server"),
    ("GET", "/openapi.json", "openapi"),
)


def _error_page(error: Any) -> str:
    """Bottle's own errors (no route, wrong method, a crash) as JSON with a ``status`` sentence."""
    request = bottle.request
    code = error.status_code
    if code == 404:
        status = f"No such route: {request.method} {request.path} (see GET /openapi.json)"
    elif code == 405:
        allowed = error.get_header("Allow", "")
        status = f"Method {request.method} not allowed on {request.path}; allowed: {allowed}"
    elif isinstance(getattr(error, "exception", None), TimeoutError):  # a body that stalled
        bottle.response.status = 408
        status = str(error.exception) or "The request body stalled"
    elif code >= 500:
        exception = getattr(error, "exception", None)
        log.error("error in %s %s: %r (traceback above)", request.method, request.path, exception)
        status = f"Internal server error: {type(exception).__name__ if exception else error.body}"
    else:
        status = str(error.body or error.status_line)
    bottle.response.content_type = JSON_TYPE
    return json.dumps({"status": status})


def create_app(service: BatchService, *, on_stop: Callable[[], None] | None = None,
               max_upload: int = DEFAULT_MAX_UPLOAD, max_recipe: int = DEFAULT_MAX_RECIPE,
               cancel_wait: float = CANCEL_WAIT) -> Any:
    """A Bottle app serving ``service``; ``on_stop`` is called by ``DELETE /server``."""
    api = BatchApi(service, on_stop=on_stop, max_upload=max_upload, max_recipe=max_recipe,
                   cancel_wait=cancel_wait)
    app = bottle.Bottle()
    app.config["catchall"] = True
    for method, path, name in ROUTES:
        app.route(path, method, getattr(api, name))
    register_dashboard(app, service)
    app.default_error_handler = _error_page
    return app
