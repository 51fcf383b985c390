"""The dashboard's queue against the real app: what test_dashboard_queue.py checks against a
stand-in, here with the server's own routes and a real batch service with a store.

Skipped while the app has no ``/queue`` route. The batch is held RUNNING by a PRE_BATCH hook (a
shell ``sleep``), so no Blender is needed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import RunOptions
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from renderplus.server.app import create_app
from renderplus.server.httpd import HttpServer
from tests.procs import processes_with
from tests.server.helpers import SLEEP_HOOK, call, wait_for

from .conftest import Watched, held_recipe, load, until
from .test_dashboard_queue import drop_on_page, row_names

TOKEN = "queue-real-T0ken"
ROWS = "#queue li"


@pytest.fixture
def queue_server(tmp_path: Path) -> Iterator[tuple[BatchService, HttpServer]]:
    store = BatchStore.open(tmp_path / "state")
    service = BatchService(options=RunOptions(kill_grace=2.0), work_dir=tmp_path / "work", store=store)
    app = create_app(service)
    if not any(route.rule == "/queue" for route in app.routes):
        store.close()
        pytest.skip("the server's queue routes are not in this checkout")
    server = HttpServer(app, token=TOKEN).start("127.0.0.1", 0)
    yield service, server
    service.shutdown(timeout=20)
    server.stop()
    store.close()
    wait_for(lambda: not processes_with(SLEEP_HOOK), timeout=15)


def queued_recipe(name: str) -> dict[str, Any]:
    data = held_recipe()
    data["name"] = name
    return data


def queue_names(server: HttpServer) -> list[str]:
    answer = call(server.port, "GET", "/queue", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.code == 200, answer.data
    return [entry["name"] for entry in answer.data["batches"]]


def test_the_real_queue_fills_by_drop_moves_by_drag_and_empties(
        open_page: Callable[..., Watched], queue_server: tuple[BatchService, HttpServer]) -> None:
    service, server = queue_server
    load(server, held_recipe(), TOKEN)
    assert call(server.port, "GET", "/batch/start", headers={"Authorization": f"Bearer {TOKEN}"}).code == 200
    watched = open_page()
    page = watched.page
    page.goto(f"{server.url}/#token={TOKEN}")
    until(page, "document.querySelector('#batch-status').textContent === 'RUNNING'")
    until(page, "!document.getElementById('queue-box').hidden")
    for name in ("First in line", "Second in line"):
        drop_on_page(page, name + ".json", json.dumps(queued_recipe(name)))
        until(page, f"[...document.querySelectorAll('{ROWS} strong')].some(n => n.textContent === '{name}')")
    assert row_names(page) == queue_names(server) == ["First in line", "Second in line"]
    assert service.running  # the current batch went on
    page.drag_and_drop(f"{ROWS}:last-child .handle", f"{ROWS}:first-child")
    until(page, f"document.querySelector('{ROWS} strong').textContent === 'Second in line'")
    assert queue_names(server) == ["Second in line", "First in line"]
    page.click("#queue-hold")
    page.wait_for_selector("#queue-held", state="visible")
    for left in (1, 0):
        page.click(f"{ROWS}:first-child [data-focus$=':remove']")  # confirm() is accepted
        until(page, f"document.querySelectorAll('{ROWS}').length === {left}")
    assert queue_names(server) == [] and page.is_visible("#queue-empty")
    assert watched.errors == []
