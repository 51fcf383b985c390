"""The dashboard opened on a batch that can go on: an interrupted one offers Resume (only the
missing frames render), an ended one with a failed job offers Retry (only that job renders
again), both drawn from the first poll (every later one is a 304); the clock of an interrupted
batch stands still; jobs are numbered from 1, as the add-on's panel numbers them. The README's
picture: ``RENDERPLUS_INTERRUPTED_SCREENSHOT=docs/images/dashboard-interrupted.png``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.store import BatchStore
from tests.batch.interrupted import make_interrupted_batch, sleeping_blender
from tests.batch.service_driver import start_service
from tests.procs import processes_with
from tests.server.helpers import wait_for

from .conftest import QUEUE_TOKEN, Served, Watched, recipe, until

SCREENSHOT_ENV = "RENDERPLUS_INTERRUPTED_SCREENSHOT"
STATUS = "document.getElementById('batch-status').textContent"
OFFERED = "!document.getElementById('{}').hidden"


def opened(open_page: Callable[..., Watched], handle: Served) -> Watched:
    watched = open_page(viewport=(1100, 700))
    watched.page.goto(f"{handle.server.url}/#token={QUEUE_TOKEN}")
    until(watched.page, "document.querySelectorAll('#jobs .job').length > 0")
    return watched


POLLS = "performance.getEntriesByType('resource').filter(e => e.name.endsWith('/batch')).length"


def after_two_more_polls(page: Any) -> None:
    """Two more poll cycles (304s: the batch does not change), counted in the page."""
    seen = int(page.evaluate(POLLS))
    until(page, f"{POLLS} >= {seen + 2}")


def facts(page: Any, selector: str) -> dict[str, str]:
    pairs = page.evaluate(f"[...document.querySelectorAll({json.dumps(selector + ' dl.facts > div')})]"
                          ".map(d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])")
    return {str(name): str(value) for name, value in pairs}


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in folder.glob("*.png")}


def test_opened_on_an_interrupted_batch_it_offers_resume_and_its_clock_stands_still(
        open_page: Callable[..., Watched], served: Callable[[], Served], tmp_path: Path) -> None:
    started = time.time() - 600
    batch_id = make_interrupted_batch(tmp_path / "state", sleeping_blender(tmp_path), tmp_path / "a.blend",
                                      tmp_path / "out")
    with BatchStore.open(tmp_path / "state") as store:
        store.update_batch(batch_id, started=started, rendering=125.0)   # it rendered 2:05
        store.update_job(batch_id, 0, started=started)
    handle = served()
    assert handle.view().resumable and handle.view().times.rendertime == 125.0
    watched = opened(open_page, handle)
    page = watched.page
    assert page.is_visible("#resume") and page.is_hidden("#retry")   # on the first drawing
    assert page.inner_text("#batch-status") == "INTERRUPTED"
    assert "whole recipe again" in (page.get_attribute("#start", "title") or "")
    assert page.inner_text("#jobs .job[data-job='0'] .job-head strong") == "#1 shot"
    before = (facts(page, "#batch"), facts(page, "#jobs .job[data-job='0']"))
    after_two_more_polls(page)
    assert (facts(page, "#batch"), facts(page, "#jobs .job[data-job='0']")) == before
    assert "Elapsed" not in before[0] and "Elapsed" not in before[1]   # nothing counts on
    assert before[0]["Render time"] == "2 min 05 s", before[0]   # what it rendered before it stopped
    assert before[0]["Started"]
    assert watched.errors == []


@pytest.mark.blender
@pytest.mark.slow
def test_resume_on_the_page_renders_only_the_missing_frames(
        open_page: Callable[..., Watched], served: Callable[[], Served],
        blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    blend = blend_factory(samples=600, size=(80, 45), frames=4)  # a few seconds a frame
    out = tmp_path / "out"
    data = recipe([{"name": "Turntable", "blend_file": str(blend), "output": str(out / "turn_####"),
                    "animated": True, "frame_start": 1, "frame_end": 4}])
    driver = start_service(tmp_path / "work", data, store=tmp_path / "state")
    wait_for(lambda: len(list(out.glob("turn_*.png"))) >= 2, timeout=120)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait(10)
    wait_for(lambda: not processes_with(str(out)), timeout=15)

    handle = served()
    shown = handle.view()
    assert shown.resumable
    recorded = {Path(p).name for p in shown.jobs[0].outputs}
    assert len(recorded) >= 2
    kept = {name: stamp for name, stamp in stamps(out).items() if name in recorded}
    watched = opened(open_page, handle)
    page = watched.page
    assert page.is_visible("#resume") and page.is_hidden("#retry")
    assert page.inner_text("#jobs .job[data-job='0'] .job-head strong") == "#1 Turntable"
    assert facts(page, "#jobs .job[data-job='0']")["Output folder"] == str(out)
    assert facts(page, "#batch")["Output folder"] == str(out)
    screenshot(page, tmp_path / "dashboard-interrupted.png")

    page.click("#resume")
    until(page, f"{STATUS} === 'FINISHED'", timeout=180)
    assert "Batch resumed" in page.inner_text("#notice")
    assert sorted(stamps(out)) == [f"turn_000{i}.png" for i in range(1, 5)]
    assert {name: stamp for name, stamp in stamps(out).items() if name in recorded} == kept
    assert page.is_hidden("#resume") and page.is_hidden("#retry")
    assert watched.errors == []


@pytest.mark.blender
@pytest.mark.slow
def test_retry_on_the_page_re_runs_only_the_failed_job(
        open_page: Callable[..., Watched], served: Callable[[], Served],
        blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    blend = blend_factory(samples=4, size=(32, 24), frames=1)
    later = tmp_path / "later.blend"   # missing at first: its job fails
    out = tmp_path / "out"
    handle = served()
    answer = handle.call("POST", "/batch/recipe", recipe([
        {"name": "Plates", "blend_file": str(blend), "output": str(out / "plates_")},
        {"name": "Comp", "blend_file": str(later), "output": str(out / "comp_")}]))
    assert answer.code == 200, answer.data
    assert handle.call("GET", "/batch/start").code == 200
    wait_for(lambda: handle.view().status == "FINISHED", timeout=120)
    assert [job.status.value for job in handle.view().jobs] == ["FINISHED", "FAILED"]
    plates = stamps(out)
    assert list(plates) == ["plates_0001.png"]
    shutil.copyfile(blend, later)

    watched = opened(open_page, handle)
    page = watched.page
    assert page.is_visible("#retry") and page.is_hidden("#resume")   # on the first drawing
    assert page.locator("#jobs .job .job-head strong").all_inner_texts() == ["#1 Plates", "#2 Comp"]
    page.click("#retry")
    until(page, "document.querySelector(\"#jobs .job[data-job='1'] .pill\").textContent === 'FINISHED'",
          timeout=120)
    until(page, f"{STATUS} === 'FINISHED'")
    assert stamps(out)["plates_0001.png"] == plates["plates_0001.png"]   # not rendered again
    assert "comp_0001.png" in stamps(out)
    assert page.is_hidden("#retry")
    assert watched.errors == []


def screenshot(page: Any, path: Path) -> None:
    page.set_viewport_size({"width": 1000, "height": 470})
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    target = os.environ.get(SCREENSHOT_ENV)
    if target:
        shutil.copyfile(path, target)
