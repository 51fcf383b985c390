"""A threaded HTTP server for the Render+ WSGI app that starts and stops on demand.

Why the standard library (``socketserver`` threads + ``wsgiref``) and not a bundled WSGI server
(waitress, cheroot): the server must run inside Blender's own Python, on Blender 3.x (which
installs no wheels) to 5.x, and from a plain ``python3`` in the add-on folder where nobody ran
pip. Every extra dependency is another wheel to ship, keep current and load from a zip, and the
load is tiny: a handful of local clients polling a JSON document. A thread per connection
answers that well (the benchmark in ``bench/RESULTS.md``: 50 clients polling a 1,000-job batch
during a render), a slow or stalled client only holds its own thread (each connection has a
socket timeout, and the number of connections is capped), and the two things a Blender add-on
needs that ``wsgiref.simple_server`` lacks are small to add here: ``stop()`` that returns only
once the port is free and every thread has ended (so the add-on can be disabled and enabled
again, and a new server can take the port at once), and JSON errors for requests that never
reach the app. One request per connection (HTTP/1.0): nothing idles in keep-alive.

Access rules (Host header, cross-site browser requests, the token) are in ``guard.py``; they
wrap the app here, so no request reaches a route without passing them.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import socket
import socketserver
import threading
import time
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .guard import LOCAL_ADDR_KEY, AccessGuard, WsgiApp, is_loopback

log = logging.getLogger("renderplus.server")

DEFAULT_HOST = "127.0.0.1"
SOCKET_TIMEOUT = 30.0          # a client silent this long loses its connection
MAX_CONNECTIONS = 256          # beyond this, new connections get an immediate 503
DRAIN_LIMIT = 64 * 1024 * 1024  # unread request body discarded after an early answer (413...)
DRAIN_TIMEOUT = 2.0
STOP_GRACE = 3.0               # in-flight requests get this long to finish before being cut


class TokenRequiredError(ValueError):
    """Listening beyond this machine without an access token is refused."""


class _BodyReader:
    """``wsgi.input`` that never reads past Content-Length, and counts what was read."""

    def __init__(self, stream: io.BufferedIOBase, length: int) -> None:
        self._stream = stream
        self.remaining = max(length, 0)

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size < 0 or size > self.remaining:
            size = self.remaining
        data = self._stream.read(size)
        self.remaining -= len(data)
        if not data:
            self.remaining = 0
        return data

    def readline(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size < 0 or size > self.remaining:
            size = self.remaining
        data = self._stream.readline(size)
        self.remaining -= len(data)
        if not data:
            self.remaining = 0
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Any:
        return iter(self.readline, b"")


class _ServerHandler(ServerHandler):
    server_software = "RenderPlus"
    error_status = "500 Internal Server Error"
    error_headers = [("Content-Type", "application/json")]  # noqa: RUF012 - wsgiref's own layout
    error_body = json.dumps({"status": "Internal server error (see the server's log)"}).encode()

    def log_exception(self, exc_info: Any) -> None:
        log.error("unhandled error in a request", exc_info=exc_info)


class _RequestHandler(WSGIRequestHandler):
    """wsgiref's handler plus: socket timeout, JSON errors, bounded body, lingering close."""

    timeout = SOCKET_TIMEOUT
    server_version = "RenderPlus"
    sys_version = ""
    server: _ThreadedWSGIServer

    def handle(self) -> None:
        try:
            self._handle_one()
        except (TimeoutError, ConnectionError) as exc:
            log.debug("connection from %s ended: %s", self.client_address[0], exc)

    def _handle_one(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            return
        if len(self.raw_requestline) > 65536:
            self.requestline, self.request_version, self.command = "", "", ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        environ = self.get_environ()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            self.send_error(400, "Content-Length is not a number")
            return
        if length < 0:
            self.send_error(400, "Content-Length is negative")
            return
        body = _BodyReader(self.rfile, length)
        environ[LOCAL_ADDR_KEY] = self.connection.getsockname()[0]
        handler = _ServerHandler(body, self.wfile, self.get_stderr(), environ, multithread=True)  # type: ignore[arg-type]
        handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref's back-pointer for logging
        app = self.server.get_app()
        assert app is not None
        handler.run(app)
        if body.remaining:
            self._drain(body)

    def _drain(self, body: _BodyReader) -> None:
        """The app answered without reading the whole body (an early 406/409/413): tell the client
        we are done writing, then read and drop what it still sends, so closing the socket does
        not reset the connection before the client has read the answer."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + DRAIN_TIMEOUT
            dropped = 0
            self.connection.settimeout(DRAIN_TIMEOUT)
            while body.remaining and dropped < DRAIN_LIMIT and time.monotonic() < deadline:
                chunk = body.read(min(body.remaining, 256 * 1024))
                if not chunk:
                    break
                dropped += len(chunk)
        except OSError:
            pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found before the app runs (bad request line, huge headers) as JSON too."""
        short, _ = self.responses.get(code, ("Error", ""))
        body = json.dumps({"status": message or short}).encode()
        self.log_error("code %d, message %s", code, message)
        if self.request_version == "HTTP/0.9":  # unparsable request line: answer with headers anyway
            self.request_version = "HTTP/1.0"
        try:
            self.send_response(code, short)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.client_address[0], format % args)

    def log_error(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.client_address[0], format % args)


class _ThreadedWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """A thread per connection, each tracked so that ``close_all`` can end them."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = os.name != "nt"  # on Windows it would let another process share the port
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily) -> None:
        self.address_family = family
        self._lock = threading.Lock()
        self._open: dict[threading.Thread, socket.socket] = {}  # each connection's thread
        super().__init__(address, _RequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn(), a DNS lookup that can hang.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            if len(self._open) >= MAX_CONNECTIONS:
                self._refuse(request)
                return
            thread = threading.Thread(target=self._serve, args=(request, client_address),
                                      name="renderplus-http", daemon=True)
            self._open[thread] = request
        thread.start()

    def _refuse(self, request: socket.socket) -> None:
        body = json.dumps({"status": "Server busy: too many connections, try again"}).encode()
        head = (f"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n")
        try:
            request.settimeout(1.0)
            request.sendall(head.encode() + body)
        except OSError:
            pass
        self.shutdown_request(request)

    def _serve(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._open.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("error while serving %s", client_address, exc_info=True)

    def threads(self) -> list[threading.Thread]:
        with self._lock:
            return [t for t in self._open if t is not threading.current_thread()]

    def close_all(self) -> None:
        """Cut every open connection but the caller's own (their threads then end at once)."""
        with self._lock:
            connections = [c for t, c in self._open.items() if t is not threading.current_thread()]
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class HttpServer:
    """Serves one WSGI app on ``host:port`` from a background thread.

    ``start()`` returns once the socket listens (``port=0`` picks a free port: read ``port``);
    ``stop()`` returns once the port is free and every thread has ended, and may be called any
    number of times from any thread, including a request's own.
    """

    def __init__(self, app: WsgiApp, *, token: str | None = None) -> None:
        self.app = app
        self.token = token or None
        self.host = DEFAULT_HOST
        self.port = 0
        self._server: _ThreadedWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._stop_lock = threading.Lock()
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopped.is_set()

    def start(self, host: str = DEFAULT_HOST, port: int = 0) -> HttpServer:
        """Bind and listen, then serve in a daemon thread; OSError when the port is taken."""
        if self._server is not None:
            raise RuntimeError("this server was already started")
        host = host.strip("[]")
        if not is_loopback(host) and not self.token:
            raise TokenRequiredError(
                f"listening on {host} (reachable from other machines) needs an access token")
        server = _ThreadedWSGIServer((host, port), _family(host))
        self.host, self.port = host, int(server.server_address[1])
        server.set_app(AccessGuard(self.app, port=self.port, bound_host=host, token=self.token))
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.25},
                                        name="renderplus-httpd", daemon=True)
        self._thread.start()
        log.info("Render+ batch server listening on %s", self.url)
        return self

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop accepting, let requests in flight finish (``grace`` s), cut the rest, join."""
        with self._stop_lock:
            server, thread = self._server, self._thread
            if self._stopped.is_set() or server is None or thread is None:
                self._stopped.set()
                return
            if thread.is_alive() and thread is not threading.current_thread():
                server.shutdown()
            server.server_close()  # the listening socket is closed: the port is free
            deadline = time.monotonic() + grace
            for worker in server.threads():
                worker.join(max(0.0, deadline - time.monotonic()))
            server.close_all()
            for worker in server.threads():
                worker.join(5.0)
            thread.join(5.0)
            self._stopped.set()
            log.info("Render+ batch server on port %d stopped", self.port)

    def stop_soon(self, before: Any = None) -> None:
        """Stop from a request: in another thread, after ``before()`` (the answer goes out first)."""
        def run() -> None:
            try:
                if before is not None:
                    before()
            finally:
                self.stop()
        threading.Thread(target=run, name="renderplus-httpd-stop", daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server has stopped; False on timeout."""
        return self._stopped.wait(timeout)


def serve_app(app: WsgiApp, host: str = DEFAULT_HOST, port: int = 0, token: str | None = None) -> HttpServer:
    """Start ``app`` on ``host:port`` and return the running server."""
    return HttpServer(app, token=token).start(host, port)

