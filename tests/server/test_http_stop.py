"""Stopping without waiting (Blender's main thread): ``request_stop`` / ``stop(wait=False)``."""

from __future__ import annotations

import threading
import time

import pytest

from renderplus.batch.service import BatchService
from renderplus.server import start_server

from .helpers import call, port_is_free, recipe_data, wait_for


def hammer(port: int, until: threading.Event, answers: list[int]) -> None:
    while not until.is_set():
        try:
            answers.append(call(port, "GET", "/batch", timeout=10).code)
        except OSError:
            answers.append(0)  # the server went away mid-request: expected while it stops


@pytest.mark.parametrize("how", ["request_stop", "stop_wait_false"])
def test_a_non_waiting_stop_returns_at_once_under_a_busy_poll_load(service: BatchService, how: str) -> None:
    handle = start_server(service, port=0)
    call(handle.port, "POST", "/batch/recipe", recipe_data([{} for _ in range(300)]))
    until = threading.Event()
    answers: list[int] = []
    pollers = [threading.Thread(target=hammer, args=(handle.port, until, answers)) for _ in range(12)]
    for thread in pollers:
        thread.start()
    try:
        wait_for(lambda: len(answers) > 50, timeout=30, interval=0.01)
        started = time.perf_counter()
        if how == "request_stop":
            handle.request_stop()
        else:
            handle.stop(wait=False)
        returned = time.perf_counter() - started
        assert returned < 0.05, f"the stop took {returned * 1000:.1f} ms"
        assert not handle.running  # at once: a timer sees the stop asked for
        wait_for(lambda: handle.stopped, timeout=10, interval=0.01)
        assert port_is_free(handle.port)
    finally:
        until.set()
        for thread in pollers:
            thread.join(30)
        handle.stop()
    assert 200 in answers


def test_stop_after_request_stop_returns_once_stopped(service: BatchService) -> None:
    handle = start_server(service, port=0)
    handle.request_stop()
    handle.request_stop()  # idempotent
    handle.stop()  # waits for the stop in progress
    assert handle.stopped and not handle.running and port_is_free(handle.port)
    handle.stop(wait=False)
    assert handle.stopped


def test_request_stop_runs_before_then_stops(service: BatchService) -> None:
    handle = start_server(service, port=0)
    seen: list[bool] = []
    handle.request_stop(before=lambda: seen.append(handle.stopped))
    assert handle.wait(10)
    assert seen == [False]  # before() ran first, while the port was still held
