"""Calls into a WSGI app without a socket: the in-process tier of the route tests.

The app is called as ``httpd`` calls it (an environ from ``wsgiref.util.setup_testing_defaults``
plus the request's method, path, headers and body), so the routes, their status codes and
bodies, and the access guard are tested in microseconds; the socket tests keep covering
``httpd`` itself (timeouts, caps, hostile bytes) and the guard behind a real listener.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

from renderplus.server.guard import LOCAL_ADDR_KEY
from tests.server.helpers import Answer, Body, request_body

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WsgiClient:
    """``client.call("GET", "/batch")`` -> the same ``Answer`` the socket helper gives.

    ``remote`` is the client's address (the guard's loopback rule), ``host`` the Host header
    sent by default (None: none, as an HTTP/1.0 tool)."""

    def __init__(self, app: WsgiApp, *, remote: str = "127.0.0.1", host: str | None = "127.0.0.1",
                 port: int = 7777) -> None:
        self.app = app
        self.remote = remote
        self.port = port
        self.host = f"{host}:{port}" if host is not None else None

    def environ(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        url = urlsplit(target)
        environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": url.path,
                                   "QUERY_STRING": url.query, "SERVER_NAME": "127.0.0.1",
                                   "SERVER_PORT": str(self.port), "REMOTE_ADDR": self.remote,
                                   LOCAL_ADDR_KEY: "127.0.0.1", "wsgi.input": io.BytesIO(body)}
        if body:
            environ["CONTENT_LENGTH"] = str(len(body))
        sent = {"Host": self.host} if self.host is not None else {}
        sent.update(headers)
        for name, value in sent.items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                environ[f"HTTP_{key}"] = value
        setup_testing_defaults(environ)  # fills in only what is still missing
        return environ

    def call(self, method: str, path: str, body: Body = None,
             headers: dict[str, str] | None = None, *,
             content_type: str | None = "application/json") -> Answer:
        """One request; ``body`` dicts and lists are sent as JSON."""
        sent = dict(headers or {})
        body = request_body(body, sent, content_type)
        status: list[str] = []
        answer_headers: dict[str, str] = {}

        def start_response(line: str, pairs: list[tuple[str, str]], exc_info: Any = None) -> None:
            status[:] = [line]
            answer_headers.clear()
            answer_headers.update({key.lower(): value for key, value in pairs})

        chunks = self.app(self.environ(method.upper(), path, body or b"", sent), start_response)
        try:
            raw = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return Answer(int(status[0].split()[0]), answer_headers, raw)
