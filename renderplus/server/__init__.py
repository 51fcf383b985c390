"""Render+'s batch server: the spec's REST API over the batch engine, pure Python (no bpy).

Two ways to run it: ``python3 server`` from the add-on folder (``cli.py``), or inside Blender,
where the add-on calls ``start_server`` and later ``handle.stop()``::

    from renderplus.server import start_server
    handle = start_server(service, host="127.0.0.1", port=7777, token=None)  # returns once listening
    handle.port, handle.url, handle.running
    handle.stop()  # returns once the port is free and its threads have ended; idempotent
    handle.request_stop()  # returns at once (Blender's main thread); a timer polls handle.stopped

Importing this package needs only the standard library; Bottle (installed, or the wheel the
add-on bundles) is imported when a server starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .guard import check_token
from .httpd import DEFAULT_HOST, DEFAULT_LIMITS, HttpLimits, HttpServer, TokenRequiredError
from .version import API_VERSION, VERSION

if TYPE_CHECKING:
    from ..batch.service import BatchService

ServerHandle = HttpServer

__all__ = ["API_VERSION", "VERSION", "HttpLimits", "ServerHandle", "TokenRequiredError", "check_token",
           "start_server"]


def start_server(service: BatchService, host: str = DEFAULT_HOST, port: int = 7777,
                 token: str | None = None, *, max_upload: int | None = None,
                 limits: HttpLimits = DEFAULT_LIMITS) -> ServerHandle:
    """Serve ``service`` on ``host:port`` from daemon threads; returns once listening.

    ``port=0`` picks a free port (read ``handle.port``). OSError when the port is taken;
    TokenRequiredError for an address other machines can reach without a ``token``; ValueError
    (from ``check_token``) for a token no client could send. ``limits``: timeouts and caps.
    ``DELETE /server`` cancels a running batch and stops this server (``handle.running``
    turns False).
    """
    from .app import DEFAULT_MAX_UPLOAD, create_app  # imports Bottle

    def stop_from_request() -> None:
        handle.stop_soon(before=service.shutdown)

    app = create_app(service, on_stop=stop_from_request, max_upload=max_upload or DEFAULT_MAX_UPLOAD)
    handle = HttpServer(app, token=token, limits=limits)
    return handle.start(host, port)
