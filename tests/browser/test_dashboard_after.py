"""The dashboard's timeline with jobs that wait for others (``after``), with the real Blender: an
arrow runs from the end of the dependency's bar to the start of the bar of the job that waited."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.service import BatchService
from renderplus.server.httpd import HttpServer
from tests.server.helpers import wait_for

from .conftest import Watched, load, recipe, until

pytestmark = [pytest.mark.blender, pytest.mark.slow]
TOKEN = "after-T0ken"
ARROW = "#timeline svg path.after-arrow[data-from='0'][data-to='1']"


def test_the_timeline_draws_an_arrow_from_a_dependency_to_its_waiting_job(
        open_page: Callable[..., Watched], dashboard_server: Callable[..., HttpServer],
        service: BatchService, blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    blend = blend_factory()
    jobs: list[dict[str, Any]] = [
        {"name": "Plates", "blend_file": str(blend), "output": str(tmp_path / "plates_")},
        {"name": "Comp", "blend_file": str(blend), "output": str(tmp_path / "comp_"), "after": [0]}]
    server = dashboard_server(token=TOKEN)
    load(server, recipe(jobs), TOKEN)
    watched = open_page()
    page = watched.page
    page.goto(f"{server.url}/#token={TOKEN}")
    until(page, "document.querySelectorAll('#jobs .job').length === 2")
    page.click("#start")
    wait_for(lambda: service.batch is not None and service.batch.wait(0), timeout=120)
    until(page, "document.getElementById('batch-status').textContent === 'FINISHED'", timeout=20)
    until(page, f"document.querySelectorAll(\"{ARROW}\").length === 1")
    assert page.locator("#timeline svg path.after-arrow").count() == 1   # one dependency, one arrow
    bar_x = float(page.get_attribute("#timeline svg rect[data-job='1']", "x") or "nan")
    path = page.get_attribute(ARROW, "d") or ""
    end_x = float(path.split(",")[-1].split()[0])
    assert end_x == pytest.approx(bar_x), path           # it ends where the waiting job starts
    assert "#2 Comp waited for #1 Plates" in (page.text_content(f"{ARROW} title") or "")
    assert watched.errors == []
