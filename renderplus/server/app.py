"""The REST API (docs/api.md, Routes) as a Bottle app: the route tables and ``create_app``.

The operations behind the routes are ``BatchApi`` (``batch_api.py``: the batch and the server),
``QueueApi`` (``queue_api.py``: the queue of batches) and ``BatchEditsApi``
(``batch_edits_api.py``: adding, moving and skipping jobs, the pause); the answers they give are
JSON (``answers.py``), and so are Bottle's own 404/405/500 pages here (``_error_page``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from ..batch.service import BatchService
from .answers import JSON_TYPE
from .batch_api import CANCEL_WAIT, DEFAULT_MAX_RECIPE, DEFAULT_MAX_UPLOAD, BatchApi
from .batch_edits_api import BatchEditsApi
from .bottle_loader import bottle
from .dashboard_routes import register_dashboard
from .queue_api import QueueApi

log = logging.getLogger("renderplus.server")

__all__ = ["CANCEL_WAIT", "DEFAULT_MAX_RECIPE", "DEFAULT_MAX_UPLOAD", "EDIT_ROUTES", "QUEUE_ROUTES",
           "ROUTES", "BatchApi", "create_app"]


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
    ("GET", "/batch/jobs/<job_id>/movie", "movie"),  # before the next: its pattern takes any tail
    ("GET", "/batch/jobs/<job_id:re:.*>", "job"),
    ("DELETE", "/batch/jobs/current", "cancel_job"),
    ("DELETE", "/batch/jobs/<job_id:re:.*>", "cancel_job_by_id"),
    ("DELETE", "/server", "stop_server"),
    ("GET", "/openapi.json", "openapi"),
)

# The queue of batches behind the current one (docs/api.md, The queue): ``QueueApi``.
QUEUE_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/queue", "post_queue"),
    ("GET", "/queue", "get_queue"),
    ("POST", "/queue/hold", "hold"),
    ("POST", "/queue/continue", "release"),
    ("PATCH", "/queue/<queue_id>", "patch_queue"),
    ("DELETE", "/queue/<queue_id>", "delete_queue"),
)

# Changing the current batch and pausing it (docs/api.md, Changing a batch; Pause): ``BatchEditsApi``.
EDIT_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/batch/jobs", "post_jobs"),
    ("PATCH", "/batch/jobs/<job_id:re:.*>", "patch_job"),
    ("POST", "/batch/pause", "pause"),
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
    edits = BatchEditsApi(service, max_body=max_recipe)
    queue = QueueApi(service, api.recipes)
    app = bottle.Bottle()
    app.config["catchall"] = True
    for table, operations in ((ROUTES, api), (QUEUE_ROUTES, queue), (EDIT_ROUTES, edits)):
        for method, path, name in table:
            app.route(path, method, getattr(operations, name))
    register_dashboard(app, service)
    app.default_error_handler = _error_page
    return app
