"""The REST API (docs/api.md, Routes) as a Bottle app: the route table and ``create_app``.

The operations behind the routes are ``BatchApi`` (``batch_api.py``); the answers they give are
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
from .bottle_loader import bottle
from .dashboard_routes import register_dashboard

log = logging.getLogger("renderplus.server")

__all__ = ["CANCEL_WAIT", "DEFAULT_MAX_RECIPE", "DEFAULT_MAX_UPLOAD", "ROUTES", "BatchApi", "create_app"]


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
