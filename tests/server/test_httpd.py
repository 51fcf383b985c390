"""The HTTP server itself: start/stop semantics, concurrent and stalled clients."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from renderplus.batch.service import BatchService
from renderplus.server import ServerHandle, start_server
from renderplus.server.httpd import HttpServer

from .helpers import call, port_is_free, wait_for


def http_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("renderplus-http")]


def slow_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/slow":
        gate.wait(30)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"ok": true}']


gate = threading.Event()


def test_start_returns_listening_on_a_free_port_and_stop_frees_it(service: BatchService) -> None:
    handle = start_server(service, port=0)
    assert handle.port > 0 and handle.running
    assert handle.url == f"http://127.0.0.1:{handle.port}"
    assert call(handle.port, "GET", "/test").code == 200  # no wait needed: start() returned listening
    handle.stop()
    assert not handle.running
    assert port_is_free(handle.port)
    assert http_threads() == []
    with pytest.raises(ConnectionRefusedError):
        call(handle.port, "GET", "/test")


def test_stop_is_idempotent_and_safe_from_many_threads(service: BatchService) -> None:
    handle = start_server(service, port=0)
    threads = [threading.Thread(target=handle.stop) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    handle.stop()
    assert not handle.running and port_is_free(handle.port)


def test_a_server_can_restart_on_the_same_port_at_once(service: BatchService) -> None:
    first = start_server(service, port=0)
    port = first.port
    call(port, "GET", "/test")  # leaves a connection in TIME_WAIT
    first.stop()
    second = start_server(service, port=port)
    try:
        assert call(port, "GET", "/test").code == 200
    finally:
        second.stop()


def test_a_taken_port_raises_oserror(server: ServerHandle, service: BatchService) -> None:
    with pytest.raises(OSError):
        start_server(service, port=server.port)


def test_fifty_concurrent_clients_all_get_answers(server: ServerHandle) -> None:
    call(server.port, "POST", "/batch/recipe",
         {"version": 2.2, "jobs": [{"blend_file": f"{i}.blend"} for i in range(200)]})
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: call(server.port, "GET", "/batch"), range(200)))
    assert {a.code for a in answers} == {200}
    assert {len(a.data["jobs"]) for a in answers} == {200}


def test_stalled_clients_do_not_block_others_and_stop_cuts_them(service: BatchService) -> None:
    handle = start_server(service, port=0)
    stalled = []
    try:
        for _ in range(10):  # half a request line each, then silence
            sock = socket.create_connection(("127.0.0.1", handle.port), timeout=30)
            sock.sendall(b"GET /te")
            stalled.append(sock)
        body = socket.create_connection(("127.0.0.1", handle.port), timeout=30)
        body.sendall(b"POST /batch/recipe HTTP/1.1\r\nContent-Type: application/json\r\n"
                     + f"Authorization: Bearer {handle.token}\r\n".encode()
                     + b"Content-Length: 1000\r\n\r\n{")  # a body that never comes
        stalled.append(body)
        assert call(handle.port, "GET", "/test", timeout=10).code == 200
    finally:
        handle.stop()
    assert port_is_free(handle.port)
    assert http_threads() == []
    for sock in stalled:  # the server closed each connection: end of stream (or a reset)
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(100) == b""
        sock.close()


def test_a_slow_request_does_not_delay_another() -> None:
    gate.clear()
    handle = HttpServer(slow_app).start("127.0.0.1", 0)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(call, handle.port, "GET", "/slow")
            assert call(handle.port, "GET", "/fast", timeout=10).data == {"ok": True}
            assert not pending.done()  # the slow one is still being served
            gate.set()
            assert pending.result(30).code == 200
    finally:
        gate.set()
        handle.stop()


def test_stop_lets_a_request_in_flight_finish() -> None:
    gate.clear()
    handle = HttpServer(slow_app).start("127.0.0.1", 0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = pool.submit(call, handle.port, "GET", "/slow")
        wait_for(lambda: [t for t in http_threads() if t.name == "renderplus-http"], interval=0.01)
        stopping = pool.submit(handle.stop)
        gate.set()  # the request finishes within the stop's grace period
        assert pending.result(30).code == 200
        stopping.result(30)
    assert port_is_free(handle.port)


def test_stop_called_inside_a_request_still_answers_it() -> None:
    holder: list[HttpServer] = []

    def stopping_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        holder[0].stop()  # synchronous, from the request's own thread
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"stopped": true}']

    handle = HttpServer(stopping_app).start("127.0.0.1", 0)
    holder.append(handle)
    assert call(handle.port, "GET", "/anything").data == {"stopped": True}
    assert handle.wait(30) and not handle.running
    assert port_is_free(handle.port)


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def hello_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def test_a_stop_right_after_start_returns_and_frees_the_port() -> None:
    server = HttpServer(hello_app).start("127.0.0.1", 0)
    server.stop()  # may come before the accept loop has started: it must not wait for a poll or hang
    assert server.stopped and port_is_free(server.port)


def test_starting_and_stopping_servers_leaves_no_descriptor_open() -> None:
    before = open_descriptors()
    for _ in range(5):
        server = HttpServer(hello_app).start("127.0.0.1", 0)
        assert call(server.port, "GET", "/").code == 200
        server.stop()
    taken = HttpServer(hello_app).start("127.0.0.1", 0)
    with pytest.raises(OSError):
        HttpServer(hello_app).start("127.0.0.1", taken.port)  # the bind fails: nothing may leak
    taken.stop()
    assert open_descriptors() == before
