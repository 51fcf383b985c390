"""A threaded HTTP server for the Render+ WSGI app that starts and stops on demand.

Why the standard library (``socketserver`` threads + ``wsgiref``) and not a bundled WSGI server:
measured, and argued in the README ("Which HTTP server serves"). In short,
waitress reads a whole request body before the app sees it (a 2 GiB upload is spooled to a
temporary file, then copied again, and a refusal comes only after it all arrived); cheroot
needs two more wheels, one of which no longer supports Blender 3.x's Python 3.10, leaves
non-daemon threads that hang Blender at exit without a ``stop()``, and its defaults accept what
this server refuses. The limits that make a library worth having are small to state here:

- the request head must arrive whole within ``HttpLimits.head_timeout`` (``wire.py``): idle and
  slowloris connections are dropped, and at the connection cap the oldest connection still
  waiting for its head is dropped to make room, so silent sockets never lock clients out;
- the request line (414) and the head (431) are capped; conflicting Content-Length headers
  are refused (400); a body that stalls raises ``BodyTimeoutError`` (the app answers 408);
- one request per connection (HTTP/1.0): nothing idles in keep-alive;
- ``stop()`` returns once the port is free and every thread has ended, so the add-on can be
  disabled and enabled again; ``request_stop()`` returns at once (Blender's main thread never
  waits) and ``stopped`` tells a timer when it is done.

Every answer the server gives itself (before the app runs) is JSON with a ``status`` sentence.
Access rules (Host header, cross-site browser requests, the token) are in ``guard.py``; they
wrap the app here, so no request reaches a route without passing them.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

from .guard import AccessGuard, TokenScope, WsgiApp, check_token, is_loopback
from .http_connections import BUSY_STATUS, ThreadedWSGIServer
from .wire import DEFAULT_LIMITS, HttpLimits

log = logging.getLogger("renderplus.server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7777  # the server's, the CLI's and the add-on's default

__all__ = ["BUSY_STATUS", "DEFAULT_HOST", "DEFAULT_LIMITS", "DEFAULT_PORT", "HttpLimits", "HttpServer",
           "TokenRequiredError"]


class TokenRequiredError(ValueError):
    """Listening beyond this machine without an access token is refused."""


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class HttpServer:
    """Serves one WSGI app on ``host:port`` from background threads.

    ``start()`` returns once the socket listens (``port=0`` picks a free port: read ``port``).
    ``stop()`` returns once the port is free and every thread has ended, and may be called any
    number of times from any thread, including a request's own. ``request_stop()`` (or
    ``stop(wait=False)``) returns at once; ``running`` turns False at once, ``stopped`` True
    when the stop is complete.
    """

    def __init__(self, app: WsgiApp, *, token: str | None = None,
                 limits: HttpLimits = DEFAULT_LIMITS, scope: TokenScope = TokenScope.EVERY_REQUEST) -> None:
        self.app = app
        self.token = check_token(token) if token else None  # None or "": no token
        self.scope = scope  # which loopback requests need the token (guard.py)
        self.token_hint = ""  # where the 401 sentence says the token is found
        self.limits = limits
        self.host = DEFAULT_HOST
        self.port = 0
        self._server: ThreadedWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._stopper: threading.Thread | None = None
        self._before_stop: Callable[[], object] | None = None
        self._stop_lock = threading.Lock()
        self._stop_requested = threading.Event()
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Serving, and no stop asked for (cheap: a timer may poll it)."""
        return (self._thread is not None and self._thread.is_alive()
                and not self._stop_requested.is_set() and not self._stopped.is_set())

    @property
    def stopped(self) -> bool:
        """The stop is complete: the port is free and the request threads have ended."""
        return self._stopped.is_set()

    def start(self, host: str = DEFAULT_HOST, port: int = 0) -> HttpServer:
        """Bind and listen, then serve in a daemon thread; OSError when the port is taken."""
        if self._server is not None:
            raise RuntimeError("this server was already started")
        host = host.strip("[]")
        if not is_loopback(host) and (not self.token or self.scope is not TokenScope.EVERY_REQUEST):
            raise TokenRequiredError(
                f"listening on {host} (reachable from other machines) needs an access token")
        server = ThreadedWSGIServer((host, port), _family(host), self.limits)
        self.host, self.port = host, int(server.server_address[1])
        self.on_listening()
        server.set_app(AccessGuard(self.app, port=self.port, bound_host=host, token=self.token,
                                   scope=self.scope, token_hint=self.token_hint))
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="renderplus-httpd", daemon=True)
        self._stopper = threading.Thread(target=self._stop_when_asked, name="renderplus-server-stop",
                                         daemon=True)
        self._thread.start()
        self._stopper.start()
        log.info("Render+ batch server listening on %s", self.url)
        return self

    def on_listening(self) -> None:
        """Called once the port is known, before the first request (a subclass writes files)."""

    def on_stopping(self) -> None:
        """Called at once when a stop is asked for, from any thread; must be quick, idempotent."""

    def stop(self, grace: float | None = None, *, wait: bool = True) -> None:
        """Stop accepting, let requests in flight finish (``grace`` s), cut the rest, join.

        ``wait=False`` is ``request_stop()``: the same stop, done by the server's own thread.
        """
        if not wait:
            self.request_stop()
            return
        self._stop_requested.set()
        self.on_stopping()
        with self._stop_lock:
            server, thread = self._server, self._thread
            if self._stopped.is_set() or server is None or thread is None:
                self._stopped.set()
                return
            if thread.is_alive() and thread is not threading.current_thread():
                server.shutdown()
            server.server_close()  # the listening socket is closed: the port is free
            deadline = time.monotonic() + (self.limits.stop_grace if grace is None else grace)
            for worker in server.threads():
                worker.join(max(0.0, deadline - time.monotonic()))
            server.close_all()
            for worker in server.threads():
                worker.join(5.0)
            thread.join(5.0)
            self._stopped.set()
            log.info("Render+ batch server on port %d stopped", self.port)

    def request_stop(self, before: Callable[[], object] | None = None) -> None:
        """Stop without waiting (returns in microseconds: it only sets an event).

        The server's stop thread runs ``before()`` (if given, e.g. cancel the batch), then
        ``stop()``; poll ``stopped`` to know when the port is free. Idempotent.
        """
        if before is not None and self._before_stop is None:
            self._before_stop = before
        self.on_stopping()
        if self._stopper is None:  # never started: nothing to wait for
            self._stop_requested.set()
            self._stopped.set()
            return
        self._stop_requested.set()

    def _stop_when_asked(self) -> None:
        self._stop_requested.wait()
        try:
            if self._before_stop is not None:
                self._before_stop()
        except Exception:
            log.exception("error before stopping the server")
        finally:
            self.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server has stopped; False on timeout."""
        return self._stopped.wait(timeout)
