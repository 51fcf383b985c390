"""Hostile HTTP over a real loopback socket: stalls, idle sockets, duplicate lengths, huge heads."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from renderplus.batch.service import BatchService
from renderplus.server import ServerHandle
from renderplus.server.app import DEFAULT_MAX_RECIPE, create_app
from renderplus.server.httpd import BUSY_STATUS, DEFAULT_LIMITS, HttpLimits, HttpServer

from .helpers import call, raw_exchange, split_response, wait_for

RECIPE_HEAD = b"POST /batch/recipe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


@pytest.fixture
def limited(service: BatchService) -> Iterator[Callable[..., HttpServer]]:
    """``limited(app=None, **limits)``: a server with shorter timeouts or caps (fast tests)."""
    started: list[HttpServer] = []

    def make(app: Any = None, **limits: Any) -> HttpServer:
        handle = HttpServer(app or create_app(service), limits=HttpLimits(**limits))
        started.append(handle)
        return handle.start("127.0.0.1", 0)

    yield make
    for handle in started:
        handle.stop()


def json_status(raw: bytes) -> tuple[int, str]:
    import json

    code, headers, body = split_response(raw)
    assert headers["content-type"] == "application/json", headers
    return code, json.loads(body)["status"]


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def connection_threads() -> list[threading.Thread]:
    """The threads serving connections (one per accepted connection, idle ones included)."""
    return [thread for thread in threading.enumerate() if thread.name == "renderplus-http"]


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


# ------------------------------------------------------------------ bodies

def test_a_stalled_recipe_body_answers_408_within_the_io_timeout(server: ServerHandle) -> None:
    with connect(server.port) as sock:
        sock.sendall(RECIPE_HEAD + f"Authorization: Bearer {server.token}\r\n".encode()
                     + b"Content-Length: 1000\r\n\r\n{\"jobs\": ")
        started = time.monotonic()
        code, status = json_status(read_all(sock))
    elapsed = time.monotonic() - started
    assert code == 408 and "stalled" in status and "9 of 1000 bytes" in status
    assert elapsed < DEFAULT_LIMITS.io_timeout + 3  # was a 500 after 30 s


def test_a_stalled_upload_answers_408(limited: Callable[..., HttpServer]) -> None:
    handle = limited(io_timeout=1.0)
    head = (b"POST /batch/file?name=a.blend HTTP/1.1\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: 5000\r\n\r\nBLENDER-v300")
    code, status = json_status(raw_exchange(handle.port, head))
    assert code == 408 and "stalled" in status


def test_a_stalled_multipart_head_answers_408_not_500(limited: Callable[..., HttpServer]) -> None:
    handle = limited(io_timeout=1.0)
    head = (b"POST /batch/file HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=xyz\r\n"
            b"Content-Length: 5000\r\n\r\n--xyz\r\nContent-Disposition: form-data; name=\"file\"")
    code, _ = json_status(raw_exchange(handle.port, head))
    assert code == 408


def test_two_different_content_lengths_answer_400(server: ServerHandle) -> None:
    raw = raw_exchange(server.port, RECIPE_HEAD + b"Content-Length: 2\r\nContent-Length: 13\r\n\r\n{}")
    code, status = json_status(raw)
    assert code == 400 and "Conflicting Content-Length" in status


def test_the_same_content_length_twice_is_one_length(server: ServerHandle) -> None:
    raw = raw_exchange(server.port, RECIPE_HEAD + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}")
    code, status = json_status(raw)
    assert code == 400 and "Invalid recipe" in status  # reached the recipe parser


@pytest.mark.parametrize("value", [b"+2", b"2_0", b"0x2", b"2, 2", b"-1", b"\xd9\xa2"])
def test_a_content_length_that_is_not_plain_digits_answers_400(server: ServerHandle, value: bytes) -> None:
    raw = raw_exchange(server.port, RECIPE_HEAD + b"Content-Length: " + value + b"\r\n\r\n{}")
    code, status = json_status(raw)
    assert code == 400 and "Content-Length" in status


def test_a_recipe_without_content_length_answers_411(server: ServerHandle) -> None:
    code, status = json_status(raw_exchange(server.port, RECIPE_HEAD + b"\r\n{}"))
    assert code == 411 and "Content-Length" in status


def test_a_recipe_over_the_limit_answers_413_before_its_body(server: ServerHandle) -> None:
    assert DEFAULT_MAX_RECIPE == 8 * 1024 * 1024
    length = str(DEFAULT_MAX_RECIPE + 1).encode()
    started = time.monotonic()
    raw = raw_exchange(server.port, RECIPE_HEAD + b"Content-Length: " + length + b"\r\n\r\n{")
    code, status = json_status(raw)
    assert code == 413 and str(DEFAULT_MAX_RECIPE) in status
    assert time.monotonic() - started < 5  # answered from the header, not after waiting for 8 MiB


# ------------------------------------------------------------------ heads

def test_an_over_long_url_answers_414(server: ServerHandle) -> None:
    path = b"/batch/jobs/" + b"1" * DEFAULT_LIMITS.max_request_line
    code, status = json_status(raw_exchange(server.port, b"GET " + path + b" HTTP/1.1\r\n\r\n"))
    assert code == 414 and "too long" in status


def test_a_huge_header_answers_431(server: ServerHandle) -> None:
    head = b"GET /test HTTP/1.1\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n"
    code, status = json_status(raw_exchange(server.port, head))
    assert code == 431 and str(DEFAULT_LIMITS.max_head) in status


def test_too_many_headers_answer_431(server: ServerHandle) -> None:
    head = b"GET /test HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n"
    code, _ = json_status(raw_exchange(server.port, head))
    assert code == 431


def test_a_head_that_trickles_in_answers_408_at_the_head_deadline(limited: Callable[..., HttpServer]) -> None:
    handle = limited(head_timeout=1.5)
    with connect(handle.port) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /test HTTP/1.1\r\n")
        for index in range(20):  # a header line every 0.3 s: each read alone is quick
            sock.sendall(b"X-%d: 1\r\n" % index)
            if select.select([sock], [], [], 0.3)[0]:
                break  # the server answered
        answered = time.monotonic() - started
        answer = read_all(sock)
    assert json_status(answer)[0] == 408
    assert answered < 3


def test_an_idle_connection_is_dropped_after_the_head_timeout(limited: Callable[..., HttpServer]) -> None:
    handle = limited(head_timeout=1.0)
    with connect(handle.port) as sock:
        started = time.monotonic()
        assert sock.recv(100) == b""  # closed by the server, nothing sent
    assert time.monotonic() - started < 3


def test_260_idle_sockets_do_not_lock_other_clients_out(server: ServerHandle) -> None:
    with ExitStack() as stack:
        for _ in range(260):
            stack.enter_context(connect(server.port))
        started = time.monotonic()
        answer = call(server.port, "GET", "/test", timeout=10)
        assert answer.code == 200  # was 503: the connection cap
        assert time.monotonic() - started < 3


def test_at_the_cap_the_oldest_idle_connection_makes_room(limited: Callable[..., HttpServer]) -> None:
    handle = limited(max_connections=3)
    idle = [connect(handle.port) for _ in range(3)]
    try:
        wait_for(lambda: len(connection_threads()) == 3)  # the server has taken all three
        assert call(handle.port, "GET", "/test", timeout=10).code == 200
        idle[0].settimeout(5)
        assert idle[0].recv(100) == b""  # the oldest was cut to make room
    finally:
        for sock in idle:
            sock.close()


def test_over_the_cap_of_busy_connections_answers_503_as_json(limited: Callable[..., HttpServer]) -> None:
    gate = threading.Event()
    arrived: list[str] = []

    def slow_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        arrived.append(environ["PATH_INFO"])
        gate.wait(30)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    handle = limited(slow_app, max_connections=2)
    busy = [connect(handle.port) for _ in range(2)]
    try:
        for sock in busy:
            sock.sendall(b"GET /slow HTTP/1.1\r\n\r\n")
        wait_for(lambda: len(arrived) == 2)  # both heads arrived: neither may be evicted
        code, status = json_status(raw_exchange(handle.port, b"GET /test HTTP/1.1\r\n\r\n"))
        assert code == 503 and status == BUSY_STATUS
    finally:
        gate.set()
        for sock in busy:
            sock.close()
