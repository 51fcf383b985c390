"""A real browser for the dashboard's tests: Debian's chromium driven by Playwright for Python.

No browser download (``playwright install`` is never run): Playwright launches the system's
chromium by path (``CHROMIUM_PATHS``; ``/usr/lib/chromium/chromium`` skips a wrapper's warning).
The tests are skipped with the reason when chromium or the playwright package is missing
(scripts/setup.sh installs both for the test profile).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import RunOptions
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from renderplus.batch.view import BatchView
from renderplus.server.app import create_app
from renderplus.server.httpd import HttpServer
from tests.procs import processes_with
from tests.server.helpers import SLEEP_HOOK, call, wait_for

CHROMIUM_PATHS = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
BLENDER = shutil.which("blender") or "/usr/bin/blender"


def chromium_path() -> str | None:
    return next((path for path in CHROMIUM_PATHS if os.access(path, os.X_OK)), None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page and what went wrong in it: console errors and uncaught exceptions."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Watched]]:
    """``open_page()``: a fresh browser context (its own session storage) and page, watched."""
    contexts: list[Any] = []

    def make(viewport: tuple[int, int] = (1200, 900)) -> Watched:
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(context)
        page = context.new_page()
        watched = Watched(page)

        def on_console(message: Any) -> None:
            if message.type == "error":
                watched.errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: watched.errors.append(f"uncaught: {exc}"))
        page.on("request", lambda request: watched.requests.append(request))
        page.on("dialog", lambda dialog: dialog.accept())
        return watched

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def dashboard_server(service: BatchService) -> Iterator[Callable[..., HttpServer]]:
    """``dashboard_server(token=None)``: the whole app on a free port, with that explicit token
    (guarding every request but the page's own files) or none (loopback open)."""
    started: list[HttpServer] = []

    def make(token: str | None = None) -> HttpServer:
        handle = HttpServer(create_app(service), token=token).start("127.0.0.1", 0)
        started.append(handle)
        return handle

    yield make
    for handle in started:
        handle.stop()


def recipe(jobs: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    for index, job in enumerate(jobs):
        job.setdefault("id", index)
        job.setdefault("name", f"job {index}")
    return {"version": 2.2, "name": "dashboard batch", "blender_bin": BLENDER, "jobs": jobs, **top}


def held_recipe() -> dict[str, Any]:
    """Three jobs held WAITING->RUNNING by a PRE_BATCH hook, so no Blender is needed."""
    data = recipe([{"name": "Intro shot"}, {"name": "Hero close-up", "enabled": False}, {"name": "Wide"}],
                  hooks={"PRE_BATCH": [{"cmd": SLEEP_HOOK}], "POST_BATCH": []})
    data["blender_bin"] = sys.executable
    for job in data["jobs"]:
        job["blend_file"] = "scene.blend"
    return data


def load(server: HttpServer, data: dict[str, Any], token: str | None = None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    answer = call(server.port, "POST", "/batch/recipe", json.dumps(data), headers=headers)
    assert answer.code == 200, answer.data


def until(page: Any, expression: str, timeout: float = 15.0) -> Any:
    """Wait until the JavaScript ``expression`` is truthy in ``page``; return its value.

    Polled from here with ``page.evaluate`` rather than Playwright's ``wait_for_function``, which
    evaluates strings with ``eval`` in the page: the dashboard's Content-Security-Policy forbids
    that (as it should), and the test must not weaken it."""
    return wait_for(lambda: page.evaluate(expression), timeout=timeout, interval=0.1)


QUEUE_TOKEN = "queue-real-T0ken"


@dataclass
class Served:
    """The whole app with a batch store, guarded by ``QUEUE_TOKEN``: what ``--serve`` runs."""

    service: BatchService
    server: HttpServer
    store: BatchStore

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body)
        return call(self.server.port, method, path, data,
                    headers={"Authorization": f"Bearer {QUEUE_TOKEN}"})

    def view(self) -> BatchView:
        """The poll's read model of the batch shown (there is one)."""
        view = self.service.view()
        assert view is not None
        return view

    def stop(self) -> None:
        """As the server stops: a running batch is cancelled, a PAUSED one stays so."""
        self.service.shutdown(timeout=20)
        self.server.stop()
        self.store.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[[], Served]]:
    """``served()``: a server on the test's store (``tmp_path / "state"``); a second call after
    ``stop()`` is the same server restarted. Everything still running is stopped afterwards."""
    started: list[Served] = []

    def make() -> Served:
        store = BatchStore.open(tmp_path / "state")
        service = BatchService(options=RunOptions(kill_grace=2.0), work_dir=tmp_path / "work", store=store)
        server = HttpServer(create_app(service), token=QUEUE_TOKEN).start("127.0.0.1", 0)
        started.append(Served(service, server, store))
        return started[-1]

    yield make
    for handle in started:
        if not handle.server.stopped:
            handle.stop()
    wait_for(lambda: not processes_with(SLEEP_HOOK), timeout=15)
