"""Reading one HTTP request off a socket with limits: the head by deadline, the body by length.

Why by hand and not with ``BaseHTTPRequestHandler.rfile.readline``: a readline waits as long as
bytes keep trickling in, so a client that sends one byte every few seconds (slowloris) or none
at all would hold its connection, and its thread, for ever. Here the whole head (request line
and headers) must arrive within ``HttpLimits.head_timeout`` and within a size cap; what comes
after it is the body, read through ``BodyReader``, which never reads past Content-Length and
turns a stall into ``BodyTimeoutError`` (a 408 for the client, not a 500).
"""

from __future__ import annotations

import io
import re
import socket
import time
from dataclasses import dataclass
from typing import Any

HEAD_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class HttpLimits:
    """What one connection may cost the server; every figure here is part of the HTTP contract."""

    head_timeout: float = 5.0       # request line + headers must all arrive within this (s)
    io_timeout: float = 10.0        # a body read or an answer write that makes no progress (s)
    max_connections: int = 256      # open connections; beyond, the oldest idle one is dropped, else 503
    max_request_line: int = 8 * 1024  # bytes; a longer request line (the URL) gets 414
    max_head: int = 32 * 1024       # bytes of request line + headers; more gets 431
    stop_grace: float = 3.0         # a waiting stop lets requests in flight finish this long


DEFAULT_LIMITS = HttpLimits()


class HeadError(Exception):
    """The request head cannot be accepted; ``code`` is the HTTP status, ``str()`` the sentence."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class BodyTimeoutError(TimeoutError):
    """The client announced a body and then stopped sending it."""


def read_head(sock: socket.socket, limits: HttpLimits) -> tuple[bytes, bytes] | None:
    """``(head, rest)``: the request head and whatever body bytes arrived with it.

    None when the client closed, or sent nothing at all, before the deadline: such a
    connection gets no answer. HeadError(408/414/431) for a partial, long or huge head.
    """
    deadline = time.monotonic() + limits.head_timeout
    buffer = b""
    while True:
        buffer = buffer.lstrip(b"\r\n")  # blank lines before a request line are allowed
        end = HEAD_END.search(buffer)
        if end is not None:
            _check_sizes(buffer[:end.end()], limits)
            return buffer[:end.end()], buffer[end.end():]
        _check_sizes(buffer, limits)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _raise_if_partial(buffer, limits)
            return None
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(16 * 1024)
        except TimeoutError:
            _raise_if_partial(buffer, limits)
            return None
        if not chunk:
            return None
        buffer += chunk


def _check_sizes(buffer: bytes, limits: HttpLimits) -> None:
    line_end = buffer.find(b"\n")
    line_length = len(buffer) if line_end < 0 else line_end
    if line_length > limits.max_request_line:
        raise HeadError(414, f"The URL is too long: the request line is over {limits.max_request_line} bytes")
    if len(buffer) > limits.max_head:
        raise _too_large(limits)


def _too_large(limits: HttpLimits) -> HeadError:
    return HeadError(431, f"The request headers are too large: the limit is {limits.max_head} bytes "
                          "for the request line and headers together")


def _raise_if_partial(buffer: bytes, limits: HttpLimits) -> None:
    """A client that sent part of a head gets 408; one that sent nothing is just closed."""
    if buffer:
        raise HeadError(408, f"The request headers did not arrive within {limits.head_timeout:g} s")


class BodyReader:
    """``wsgi.input``: the bytes that came with the head, then the socket, never past ``length``."""

    def __init__(self, prefix: bytes, stream: io.BufferedIOBase, length: int, timeout: float) -> None:
        self._prefix = prefix[:max(length, 0)]
        self._stream = stream
        self.length = max(length, 0)
        self.remaining = self.length
        self.timed_out = False
        self._timeout = timeout

    def _take(self, size: int, line: bool) -> bytes:
        if self.remaining <= 0:
            return b""
        if size < 0 or size > self.remaining:
            size = self.remaining
        if self._prefix:
            cut = self._prefix.find(b"\n", 0, size) + 1 if line else 0
            cut = cut or min(size, len(self._prefix))
            data, self._prefix = self._prefix[:cut], self._prefix[cut:]
        else:
            try:
                data = self._stream.readline(size) if line else self._stream.read(size)
            except TimeoutError:
                self.timed_out = True
                received = self.length - self.remaining
                raise BodyTimeoutError(
                    f"The request body stalled: {received} of {self.length} bytes arrived, then "
                    f"nothing for {self._timeout:g} s") from None
        self.remaining -= len(data)
        if not data:
            self.remaining = 0
        return data

    def read(self, size: int = -1) -> bytes:
        return self._take(size, line=False)

    def readline(self, size: int = -1) -> bytes:
        return self._take(size, line=True)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Any:
        return iter(self.readline, b"")
