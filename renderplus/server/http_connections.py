"""The sockets under ``HttpServer``: connections, their request heads and bodies, the cap.

Moved out of ``httpd`` so that module is about starting and stopping. Each connection is one
request (HTTP/1.0); ``wire.py`` reads the head within its time limit; at the connection cap the
oldest connection still waiting for its head is dropped to make room (``httpd``'s docstring
says why these limits).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import selectors
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .guard import LOCAL_ADDR_KEY
from .wire import BodyReader, HeadError, HttpLimits, read_head

log = logging.getLogger("renderplus.server")

DRAIN_LIMIT = 64 * 1024 * 1024  # unread request body discarded after an early answer (413...)
DRAIN_TIMEOUT = 2.0
BUSY_STATUS = "Server busy: too many connections, try again"

class _ServerHandler(ServerHandler):
    server_software = "RenderPlus"
    error_status = "500 Internal Server Error"
    error_headers = [("Content-Type", "application/json")]  # noqa: RUF012 - wsgiref's own layout
    error_body = json.dumps({"status": "Internal server error (see the server's log)"}).encode()

    def log_exception(self, exc_info: Any) -> None:
        log.error("unhandled error in a request", exc_info=exc_info)


def _json_head(code: int, reason: str, body: bytes, extra: str = "") -> bytes:
    return (f"HTTP/1.0 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
            f"\r\n{extra}Connection: close\r\n\r\n").encode("latin-1")


class _RequestHandler(WSGIRequestHandler):
    """One request per connection: head by deadline (``wire.read_head``), bounded body, JSON errors."""

    timeout = None  # set per phase: the head's deadline, then the limits' io_timeout
    server_version = "RenderPlus"
    sys_version = ""
    server: ThreadedWSGIServer

    def handle(self) -> None:
        self.requestline, self.request_version, self.command = "", "HTTP/1.0", ""
        try:
            self._handle_one()
        except OSError as exc:  # timeouts, resets, and sockets cut by stop() or eviction
            log.debug("connection from %s ended: %s", self.client_address[0], exc)

    def _handle_one(self) -> None:
        limits = self.server.limits
        record = self.server.record()
        try:
            got = read_head(self.connection, limits)
        except HeadError as exc:
            self.server.mark_busy(record)
            self.send_error(exc.code, str(exc))
            self._linger(self.connection.recv, DRAIN_LIMIT)
            return
        if got is None or not self.server.mark_busy(record):
            return  # silent, closed or evicted: nobody to answer
        head, rest = got
        self.connection.settimeout(limits.io_timeout)
        stream = self.rfile
        self.rfile = io.BytesIO(head)
        try:
            self.raw_requestline = self.rfile.readline(limits.max_request_line + 2)
            parsed = self.parse_request()
        finally:
            self.rfile = stream
        if not parsed:
            return
        length = self._content_length()
        if length is None:
            return
        environ = self.get_environ()
        environ[LOCAL_ADDR_KEY] = self.connection.getsockname()[0]
        body = BodyReader(rest, stream, length, limits.io_timeout)
        handler = _ServerHandler(body, self.wfile, self.get_stderr(), environ, multithread=True)  # type: ignore[arg-type]
        handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref's back-pointer for logging
        app = self.server.get_app()
        assert app is not None
        handler.run(app)
        if body.remaining and not body.timed_out:
            self._linger(body.read, body.remaining)

    def _content_length(self) -> int | None:
        """The one Content-Length (0 when absent), or None after answering 400."""
        values = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if len(values) > 1:
            self.send_error(400, f"Conflicting Content-Length headers: {', '.join(sorted(values))}")
            return None
        value = values.pop() if values else ""
        if not value:
            return 0
        if not (value.isascii() and value.isdigit()):
            self.send_error(400, f"Content-Length is not a number of bytes: {value[:40]!r}")
            return None
        return int(value)

    def _linger(self, read: Callable[[int], bytes], limit: int) -> None:
        """We answered before reading all the client sends (an early 406/413/431...): tell it we
        are done writing, then read and drop what it still sends for a moment, so closing the
        socket does not reset the connection before the client has read the answer."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(DRAIN_TIMEOUT)
            deadline = time.monotonic() + DRAIN_TIMEOUT
            dropped = 0
            while dropped < min(limit, DRAIN_LIMIT) and time.monotonic() < deadline:
                chunk = read(256 * 1024)
                if not chunk:
                    break
                dropped += len(chunk)
        except OSError:
            pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found before the app runs (bad request line, huge headers) as JSON too."""
        short, long = self.responses.get(code, ("Error", ""))
        status = message or long or short
        if explain and explain != status:
            status = f"{status} ({explain})"
        body = json.dumps({"status": status}).encode()
        self.log_error("code %d, message %s", code, status)
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


@dataclass
class _Connection:
    sock: socket.socket
    accepted: float
    waiting: bool = True   # its request head has not arrived yet
    evicted: bool = False  # dropped to make room for a new connection


class ThreadedWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """A thread per connection, each tracked so that the cap holds and ``close_all`` can end them."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = os.name != "nt"  # on Windows it would let another process share the port
    request_queue_size = 128  # a backlog of 5 or 64 makes bursts of clients reconnect (seconds)

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily, limits: HttpLimits) -> None:
        self.address_family = family
        self.limits = limits
        self._lock = threading.Lock()
        self._open: dict[threading.Thread, _Connection] = {}
        # socketserver's loop sees a shutdown only at its next poll (0.25 s per stop): a byte on
        # this pair wakes it at once, so stopping a server costs microseconds, not a poll.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._stop_serving = threading.Event()
        self._loop_done = threading.Event()
        super().__init__(address, _RequestHandler)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Accept connections until ``shutdown()``, which wakes the loop at once. One-shot: a
        server that was shut down does not serve again (``HttpServer`` never restarts one)."""
        self._loop_done.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_reader, selectors.EVENT_READ)
                while not self._stop_serving.is_set():
                    ready = selector.select(poll_interval)
                    if self._stop_serving.is_set():
                        break
                    if any(key.fileobj is self for key, _ in ready):
                        self._accept_one()
                    self.service_actions()
        finally:
            self._loop_done.set()

    def _accept_one(self) -> None:
        try:
            request, client_address = self.get_request()
        except OSError:  # the client went away between select and accept
            return
        try:
            self.process_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
            self.shutdown_request(request)

    def shutdown(self) -> None:
        """End ``serve_forever`` (from another thread) and wait until it has returned."""
        self._stop_serving.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")
        self._loop_done.wait()

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

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
            active = [c for c in self._open.values() if not c.evicted]
            if len(active) >= self.limits.max_connections and not self._evict_oldest_idle(active):
                thread = None
            else:
                thread = threading.Thread(target=self._serve, args=(request, client_address),
                                          name="renderplus-http", daemon=True)
                self._open[thread] = _Connection(request, time.monotonic())
        if thread is None:
            self._refuse(request)
        else:
            thread.start()

    def _evict_oldest_idle(self, active: list[_Connection]) -> bool:
        """Make room by cutting the oldest connection that has not sent its request yet."""
        idle = [c for c in active if c.waiting]
        if not idle:
            return False
        oldest = min(idle, key=lambda c: c.accepted)
        oldest.evicted = True
        with contextlib.suppress(OSError):
            oldest.sock.shutdown(socket.SHUT_RDWR)
        return True

    def record(self) -> _Connection:
        with self._lock:
            return self._open[threading.current_thread()]

    def mark_busy(self, record: _Connection) -> bool:
        """The head arrived: the connection may no longer be evicted. False if it already was."""
        with self._lock:
            record.waiting = False
            return not record.evicted

    def _refuse(self, request: socket.socket) -> None:
        body = json.dumps({"status": BUSY_STATUS}).encode()
        try:
            request.settimeout(1.0)
            request.sendall(_json_head(503, "Service Unavailable", body, "Retry-After: 1\r\n") + body)
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
            connections = [c.sock for t, c in self._open.items() if t is not threading.current_thread()]
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
