"""The dashboard during real Blender renders: live progress, thumbnails, the chart, the timeline,
cancelling; and the README's screenshot (``RENDERPLUS_DASHBOARD_SCREENSHOT=docs/dashboard.png``).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.service import BatchService
from renderplus.server.httpd import HttpServer
from tests.procs import processes_with
from tests.server.helpers import wait_for

from .conftest import Watched, load, recipe, until

pytestmark = [pytest.mark.blender, pytest.mark.slow]
TOKEN = "render-T0ken"
SCREENSHOT_ENV = "RENDERPLUS_DASHBOARD_SCREENSHOT"
LOADED_THUMBS = ("[...document.querySelectorAll('#jobs .thumb img')]"
                 ".filter(i => i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:')).length")


def batch_percent(page: Any) -> float:
    return float(page.inner_text("#batch-percent").split()[0] or 0)


def test_a_real_batch_live(open_page: Callable[..., Watched], dashboard_server: Callable[..., HttpServer],
                           service: BatchService, blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    turntable = blend_factory(frames=8, samples=96, size=(160, 90))
    hero = blend_factory(frames=1, samples=600, size=(160, 90))
    out = tmp_path / "renders"
    # The moment the screenshot waits for is held open by the Turntable's POST_JOB hook, which
    # ends when the test has taken it (bounded at 120 s), so a fast or a loaded machine both see it.
    release = tmp_path / "screenshot-taken"
    hold = f"for i in $(seq 1200); do [ -e '{release}' ] && exit 0; sleep 0.1; done"
    jobs: list[dict[str, Any]] = [
            {"name": "Turntable", "blend_file": str(turntable), "output": str(out / "turntable_"),
             "animated": True, "frame_start": 1, "frame_end": 8, "hooks": {"POST_JOB": [hold]}},
            {"name": "Hero still", "blend_file": str(hero), "output": str(out / "hero_")},
            {"name": "Wide", "blend_file": str(turntable), "output": str(out / "wide_"),
             "animated": True, "frame_start": 1, "frame_end": 3, "engine": "BLENDER_WORKBENCH"}]
    server = dashboard_server(token=TOKEN)
    load(server, recipe(jobs, settings={"parallel": 2}), TOKEN)
    watched = open_page(viewport=(1280, 1000))
    page = watched.page
    page.goto(f"{server.url}/#token={TOKEN}")
    until(page, "document.querySelectorAll('#jobs .job').length === 3")
    page.click("#start")
    wait_for(lambda: service.batch is not None, timeout=30)  # the start was answered

    seen: list[float] = []
    shot = False
    last: dict[str, Any] = {}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = page.inner_text("#batch-status")
        percent = batch_percent(page)
        if not seen or percent != seen[-1]:
            seen.append(percent)
        bars = page.locator("#chart svg rect.frame-bar").count()
        last = {"status": status, "thumbnails": page.evaluate(LOADED_THUMBS), "frame bars": bars,
                "timeline": page.is_visible("#timeline-box")}
        if not shot and status == "RUNNING" and last["thumbnails"] >= 1 and bars >= 3 and last["timeline"]:
            screenshot(page, tmp_path / "dashboard.png")
            shot = True
            release.touch()
        if status in ("FINISHED", "CANCELLED"):
            break
        assert service.batch is not None and (service.running or service.batch.status.ended)
        page.wait_for_timeout(250)

    assert page.inner_text("#batch-status") == "FINISHED", page.inner_text("#batch")
    assert len(seen) >= 4 and seen == sorted(seen) and seen[-1] == 100, seen  # it advanced, live
    assert shot, f"no moment with a running job, a thumbnail, 3 frame times and the timeline: {last}"
    until(page, f"{LOADED_THUMBS} === 3", timeout=20)
    assert [t.split()[0] for t in page.locator("#jobs .job .facts div:first-child dd").all_inner_texts()] \
        == ["8", "1", "3"]
    assert page.locator("#chart svg rect.frame-bar").count() >= 1
    assert page.locator("#timeline svg rect.lane").count() == 3
    assert service.batch is not None
    chosen = service.batch.view().job(0).blender   # the Blender each job rendered with
    assert chosen is not None and chosen["path"]
    facts = page.inner_text("#jobs .job[data-job='0'] .facts")
    assert "Blender" in facts and str(chosen["path"]) in facts

    page.click("#jobs .job[data-job='0'] .thumb img")  # the full frame, fetched with the token
    until(page, "document.getElementById('viewer-img').naturalWidth === 160")
    assert page.evaluate("document.getElementById('viewer-img').src").startswith("blob:")
    assert "turntable_0008.png" in page.inner_text("#viewer-caption")
    page.keyboard.press("Escape")
    assert page.is_hidden("#viewer")
    assert watched.errors == []


def screenshot(page: Any, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    target = os.environ.get(SCREENSHOT_ENV)
    if target:
        shutil.copyfile(path, target)


def test_cancel_a_job_then_the_batch_mid_render(open_page: Callable[..., Watched],
                                                dashboard_server: Callable[..., HttpServer],
                                                service: BatchService, blend_factory: Callable[..., Path],
                                                tmp_path: Path) -> None:
    slow = tmp_path / "slow-dashboard.blend"
    shutil.copyfile(blend_factory(samples=5000, size=(320, 240), frames=1), slow)
    jobs = [{"name": "First", "blend_file": str(slow), "output": str(tmp_path / "a_")},
            {"name": "Second", "blend_file": str(slow), "output": str(tmp_path / "b_")}]
    server = dashboard_server(token=TOKEN)
    load(server, recipe(jobs), TOKEN)
    watched = open_page()
    page = watched.page
    page.goto(f"{server.url}/#token={TOKEN}")
    until(page, "document.querySelectorAll('#jobs .job').length === 2")
    page.click("#start")
    wait_for(lambda: processes_with(str(slow)), timeout=30)
    until(page, "document.querySelector(\"#jobs .job[data-job='0'] .pill\").textContent === 'RUNNING'")
    first = processes_with(str(slow))
    page.click("#jobs .job[data-job='0'] button")
    until(page, "document.querySelector(\"#jobs .job[data-job='0'] .pill\").textContent === 'CANCELLED'",
          timeout=30)
    until(page, "document.querySelector(\"#jobs .job[data-job='1'] .pill\").textContent === 'RUNNING'",
          timeout=30)
    assert not set(first) & set(processes_with(str(slow)))  # the first job's Blender is gone
    page.click("#cancel-batch")
    until(page, "document.querySelector('#batch-status').textContent === 'CANCELLED'", timeout=30)
    wait_for(lambda: not processes_with(str(slow)), timeout=30)
    view = service.view()
    assert view is not None and [job.status.value for job in view.jobs] == ["CANCELLED", "CANCELLED"]
    assert watched.errors == []
