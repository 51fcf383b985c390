"""A webhook receiver on loopback: records every request, answers as each test plans.

``plan`` lists the answers of the first requests in order (``Answer``: a status and headers, or
``hang`` until the test ends); later requests get 204. Tests wait on ``wait_for``, never sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

SECRET = "T0ken-s3cret-9f1c"   # the part of the URL that must never be shown


@dataclass(frozen=True)
class Answer:
    status: int = 204
    headers: tuple[tuple[str, str], ...] = ()
    hang: bool = False


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: Message
    body: bytes

    def form_parts(self) -> dict[str, Message]:
        """A multipart/form-data body's parts by field name."""
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = message_from_bytes(head + self.body, policy=HTTP)
        return {str(part.get_param("name", header="content-disposition")): part
                for part in message.iter_parts()}


@dataclass
class Receiver:
    plan: list[Answer] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str = f"/hooks/{SECRET}?token={SECRET}x") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer_next(self, received: Received) -> Answer:
        with self._changed:
            index = len(self.requests)
            self.requests.append(received)
            self._changed.notify_all()
        return self.plan[index] if index < len(self.plan) else Answer()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = receiver.answer_next(Received(self.command, self.path, self.headers, body))
            if answer.hang:
                receiver.release.wait(60)
                return
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(made))
    server.daemon_threads = True
    made.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield made
    finally:
        made.release.set()
        server.shutdown()
        server.server_close()
