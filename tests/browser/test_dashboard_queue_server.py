"""The dashboard's queue end to end against the real app and its store: filled by dropping
recipes while a batch runs, reordered by drag, held, emptied; the server's queue follows each step.

The batch is held RUNNING by a PRE_BATCH hook (a shell ``sleep``), so no Blender is needed.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .conftest import Served, Watched, held_recipe, until
from .test_dashboard_queue import ROWS, drop_on_page, queue_names, queued_recipe, row_names, running


def test_the_real_queue_fills_by_drop_moves_by_drag_and_empties(
        open_page: Callable[..., Watched], served: Callable[[], Served]) -> None:
    handle, _ = running(served)
    watched = open_page()
    page = watched.page
    page.goto(f"{handle.server.url}/#token={handle.server.token}")
    until(page, "document.querySelector('#batch-status').textContent === 'RUNNING'")
    until(page, "!document.getElementById('queue-box').hidden")
    for name in ("First in line", "Second in line"):
        drop_on_page(page, name + ".json", json.dumps(queued_recipe(name)))
        until(page, f"[...document.querySelectorAll('{ROWS} strong')].some(n => n.textContent === '{name}')")
    assert row_names(page) == queue_names(handle) == ["First in line", "Second in line"]
    assert handle.service.running and handle.view().name == held_recipe()["name"]  # it went on
    page.drag_and_drop(f"{ROWS}:last-child .handle", f"{ROWS}:first-child")
    until(page, f"document.querySelector('{ROWS} strong').textContent === 'Second in line'")
    assert queue_names(handle) == ["Second in line", "First in line"]
    page.click("#queue-hold")
    page.wait_for_selector("#queue-held", state="visible")
    for left in (1, 0):
        page.click(f"{ROWS}:first-child [data-focus$=':remove']")  # confirm() is accepted
        until(page, f"document.querySelectorAll('{ROWS}').length === {left}")
    assert queue_names(handle) == [] and page.is_visible("#queue-empty")
    assert watched.errors == []
