"""Render+'s batch server: the REST API (docs/api.md), the web dashboard and the .blend upload
over one ``BatchService``, in pure Python (no bpy).

Who starts it: the CLI (``python3 server --serve`` from the add-on folder runs ``__main__``,
which hands over to ``renderplus.cli``), and the add-on inside Blender, which calls
``start_server`` and later ``handle.stop()``::

    from renderplus.server import DEFAULT_PORT, start_server
    handle = start_server(service, host="127.0.0.1", port=DEFAULT_PORT)  # returns once listening
    handle.port, handle.url, handle.running
    handle.token, handle.dashboard_url, handle.curl_example, handle.token_file
    handle.stop()  # returns once the port is free and its threads have ended; idempotent
    handle.request_stop()  # returns at once (Blender's main thread); a timer polls handle.stopped

The modules: ``app`` (the route tables, a Bottle app) over ``batch_api`` (the batch and the
server), ``queue_api`` (the queue of batches) and ``batch_edits_api`` (adding, moving and
skipping jobs, the pause), which read bodies through ``request_body``, answer the batch slot's
refusals through ``service_errors``; ``dashboard_routes``/``dashboard_frames`` (the
page and the frames it may show), ``upload``/``upload_signature`` (a .blend streamed to disk),
``public_poll`` (the poll without the token), ``openapi``/``dashboard_openapi``/``queue_openapi``
(the API's document), ``guard`` (Host, cross-site and token rules), ``httpd``/``wire`` (the threaded HTTP
server and its limits), ``tokenfile`` (where a server leaves its token for the CLI),
``handover`` (the detached server a quitting Blender hands its batch to), ``bottle_loader``
and ``version``.

Every server has an access token (docs/api.md, Access): the one given, or one made at start and
written to this user's token file (``tokenfile.py``), removed again when the stop is asked for.
Importing this package needs only the standard library; Bottle (installed, or the wheel the
add-on bundles) is imported when a server starts.
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import tokenfile
from .guard import TokenScope, check_token
from .httpd import DEFAULT_HOST, DEFAULT_LIMITS, DEFAULT_PORT, HttpLimits, HttpServer, TokenRequiredError
from .version import API_VERSION, VERSION

if TYPE_CHECKING:
    from ..batch.service import BatchService
    from .guard import WsgiApp

log = logging.getLogger("renderplus.server")

__all__ = ["API_VERSION", "DEFAULT_HOST", "DEFAULT_PORT", "VERSION", "HttpLimits", "ServerHandle",
           "TokenRequiredError", "check_token", "start_server"]


class ServerHandle(HttpServer):
    """A running server with its access token (the given one, or its own) and token file."""

    def __init__(self, app: WsgiApp, *, token: str | None = None, no_token: bool = False,
                 token_file: bool = True, limits: HttpLimits = DEFAULT_LIMITS,
                 own_token: str | None = None) -> None:
        if sum(map(bool, (token, no_token, own_token))) > 1:
            raise ValueError("Give an access token, an own token or no_token, not two of them")
        own = None if no_token or token else own_token or secrets.token_urlsafe(32)
        scope = (TokenScope.EVERY_REQUEST if token else TokenScope.OFF if no_token
                 else TokenScope.NOT_READS)
        super().__init__(app, token=token or own, limits=limits, scope=scope)
        self.write_token_file = token_file
        self.token_file: Path | None = None  # where the token was written, once listening
        self.token_file_problem: str | None = None  # why it could not be written, if so
        self._record: tokenfile.ServerRecord | None = None

    @property
    def dashboard_url(self) -> str:
        """The dashboard with the token in the fragment (``#token=``): browsers never send a
        fragment, so the token stays out of the server's logs and out of proxies."""
        return f"{self.url}/#token={self.token}" if self.token else f"{self.url}/"

    @property
    def curl_example(self) -> str:
        """A command line that starts the loaded batch (a changing route: it shows the header)."""
        header = f'-H "Authorization: Bearer {self.token}" ' if self.token else ""
        return f"curl {header}{self.url}/batch/start"

    def on_listening(self) -> None:
        if self.token and self.write_token_file:
            record = tokenfile.new_record(self.url, self.host, self.port, self.token)
            try:
                self.token_file = tokenfile.write_record(record)
                self._record = record
            except OSError as exc:  # a read-only home: the server still serves; the token is shown
                self.token_file_problem = f"The access token could not be saved for the command line: {exc}"
                log.warning("%s", self.token_file_problem)
        where = (f"the token is in {tokenfile.shown_path(self.token_file)}, readable only by the user "
                 "who started the server" if self.token_file
                 else "the token was shown to the user who started the server")
        if self.scope is TokenScope.EVERY_REQUEST:  # a token given to it, not its own
            where = f"it is the token the server was started with (--token or $RENDERPLUS_TOKEN); {where}"
        self.token_hint = where

    def on_stopping(self) -> None:
        record, self._record = self._record, None
        if record is not None:
            tokenfile.remove_record(record)


def start_server(service: BatchService, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 token: str | None = None, *, no_token: bool = False, token_file: bool = True,
                 max_upload: int | None = None, limits: HttpLimits = DEFAULT_LIMITS,
                 own_token: str | None = None) -> ServerHandle:
    """Serve ``service`` on ``host:port`` from daemon threads; returns once listening.

    ``token``: required on every request. Without one the server makes its own, required for
    every route but the reads (docs/api.md, Access), and writes it to ``handle.token_file`` (unless
    ``token_file=False``); ``no_token=True`` opens loopback instead (say so to the user).
    ``own_token``: the token this server keeps as its own instead of making one (a server a
    batch was handed over to keeps its predecessor's, ``handover``): the reads stay open.
    ``port=0`` picks a free port (read ``handle.port``). OSError when the port is taken;
    TokenRequiredError for an address other machines can reach without a ``token``; ValueError
    (from ``check_token``) for a token no client could send. ``limits``: timeouts and caps.
    ``DELETE /server`` cancels a running batch and stops this server (``handle.running``
    turns False).
    """
    from .app import DEFAULT_MAX_UPLOAD, create_app  # imports Bottle

    def stop_from_request() -> None:
        handle.request_stop(before=service.shutdown)  # the answer goes out first

    sweep_uploads(service.work_dir, limits)
    app = create_app(service, on_stop=stop_from_request, max_upload=max_upload or DEFAULT_MAX_UPLOAD)
    handle = ServerHandle(app, token=token, no_token=no_token, token_file=token_file, limits=limits,
                          own_token=own_token)
    handle.start(host, port)
    return handle


def sweep_uploads(work_dir: Path, limits: HttpLimits) -> None:
    """Remove partial uploads a crashed server left (docs/api.md, Uploads). This server runs no
    upload yet; a part another server on the same folder still writes was touched within the
    body timeout (a body idle longer is cut), so only older parts are swept."""
    from .upload import sweep_partial_uploads

    for part in sweep_partial_uploads(work_dir, time.time() - limits.io_timeout):
        log.info("removed a partial upload left by an earlier server: %s", part)
