"""The dashboard with real Blender renders: pause (after the frame, then now) and continue, the
jobs shown in run order and moved, skipped and taken back while the batch renders, a paused
batch with a queue (the README's picture: ``RENDERPLUS_QUEUE_SCREENSHOT=docs/images/dashboard-queue.png``),
and that paused batch again after the server restarts (it comes back from the store).

A job that must stay RUNNING while the page is driven renders one frame of many thousand samples
(minutes): "pause now" and cancelling end it. Frames meant to finish take a few seconds each.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.procs import processes_with
from tests.server.helpers import ServerProcess, call, wait_for

from .conftest import QUEUE_TOKEN, Served, Watched, recipe, until
from .test_dashboard_queue import ROWS, drop_on_page, queue_names, row_names, sent

pytestmark = [pytest.mark.blender, pytest.mark.slow]
SCREENSHOT_ENV = "RENDERPLUS_QUEUE_SCREENSHOT"
CARD_ORDER = "[...document.querySelectorAll('#jobs .job')].map(c => c.dataset.job).join()"
LOADED_THUMBS = ("[...document.querySelectorAll('#jobs .thumb img')]"
                 ".filter(i => i.complete && i.naturalWidth > 0).length")
ENDLESS = {"samples": 50_000, "size": (32, 24), "frames": 1}  # one frame: minutes
QUICK = {"samples": 4, "size": (32, 24), "frames": 1}
STEADY = {"samples": 600, "size": (80, 45), "frames": 6}  # a few seconds a frame


def opened(open_page: Callable[..., Watched], handle: Served,
           viewport: tuple[int, int] = (1200, 900)) -> Watched:
    watched = open_page(viewport=viewport)
    watched.page.goto(f"{handle.server.url}/#token={QUEUE_TOKEN}")
    return watched


def pill(job_id: int) -> str:
    return f"document.querySelector(\"#jobs .job[data-job='{job_id}'] .pill\").textContent"


def job_order(page: Any) -> list[str]:
    return str(page.evaluate(CARD_ORDER)).split(",")


Caller = Callable[..., Any]  # (method, path, body=None) -> the answer (code, data)


def loaded_by(call: Caller, jobs: list[dict[str, Any]], name: str = "Evening shots") -> None:
    data = recipe(jobs)
    data["name"] = name
    answer = call("POST", "/batch/recipe", data)
    assert answer.code == 200, answer.data


def polled(call: Caller) -> dict[str, Any]:
    answer = call("GET", "/batch")
    assert answer.code == 200, answer.data
    return dict(answer.data)


def no_blender_with(path: Path) -> bool:
    return not processes_with(str(path))


def test_pause_after_the_frame_shows_pausing_then_now_pauses_and_continue_resumes(
        open_page: Callable[..., Watched], served: Callable[[], Served],
        blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    endless, quick = blend_factory(**ENDLESS), blend_factory(**QUICK)
    handle = served()
    loaded_by(handle.call, [
        {"name": "Hero close-up", "blend_file": str(endless), "output": str(tmp_path / "hero_")},
        {"name": "Wide", "blend_file": str(quick), "output": str(tmp_path / "wide_")}])
    watched = opened(open_page, handle)
    page = watched.page
    until(page, "document.querySelectorAll('#jobs .job').length === 2")
    assert page.is_hidden("#pause-group")  # WAITING: nothing to pause
    page.click("#start")
    until(page, f"{pill(0)} === 'RUNNING'", timeout=60)
    wait_for(lambda: processes_with(str(endless)), timeout=30)
    assert page.is_visible("#pause-group") and page.is_hidden("#continue")
    assert page.is_hidden("#batch-pausing")
    page.click("#pause-frame")
    until(page, "!document.getElementById('batch-pausing').hidden")
    assert page.inner_text("#batch-pausing") == "pausing after the frame…"
    assert page.inner_text("#batch-status") == "RUNNING"
    assert handle.view().pausing == "frame"
    # a weaker or equal pause is no use now; "now" still cuts it short
    assert page.is_disabled("#pause-frame") and page.is_disabled("#pause-job")
    assert page.is_enabled("#pause-now")
    page.click("#pause-now")
    until(page, "document.querySelector('#batch-status').textContent === 'PAUSED'", timeout=30)
    assert [body for _, body in sent(watched, "POST", "/batch/pause")] == [{"when": "frame"}, {"when": "now"}]
    assert no_blender_with(endless)
    assert page.get_attribute("#batch-status", "class") == "pill PAUSED"
    assert page.is_hidden("#pause-group") and page.is_hidden("#batch-pausing")
    assert page.is_visible("#continue") and page.is_disabled("#start") and page.is_enabled("#cancel-batch")
    assert page.is_hidden("#retry") and page.is_hidden("#resume")
    assert page.evaluate(pill(0)) == "QUEUED" and job_order(page) == ["0", "1"]  # first again

    page.click("#continue")
    until(page, "document.querySelector('#batch-status').textContent === 'RUNNING'", timeout=30)
    wait_for(lambda: processes_with(str(endless)), timeout=30)  # the job renders again
    until(page, f"{pill(0)} === 'RUNNING'", timeout=30)
    assert sent(watched, "GET", "/batch/resume") == [("/batch/resume", None)]
    assert page.is_hidden("#continue") and page.is_visible("#pause-group")
    api_calls = [r for r in watched.requests if urlsplit(r.url).path.startswith(("/batch", "/queue"))]
    assert api_calls and all(r.headers.get("authorization") == f"Bearer {QUEUE_TOKEN}" for r in api_calls)
    assert handle.call("DELETE", "/batch").code == 200
    wait_for(lambda: no_blender_with(endless), timeout=30)
    assert watched.errors == []


def test_jobs_are_shown_in_run_order_and_queued_ones_move_skip_and_come_back(
        open_page: Callable[..., Watched], served: Callable[[], Served],
        blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    endless, quick = blend_factory(**ENDLESS), blend_factory(**QUICK)

    def job(name: str, blend: Path, **more: Any) -> dict[str, Any]:
        output = str(tmp_path / name.replace(" ", "_"))
        return {"name": name, "blend_file": str(blend), "output": output, **more}

    handle = served()
    loaded_by(handle.call, [job("Intro shot", quick), job("Hero close-up", endless), job("Wide", quick),
                            job("Night pass", quick), job("Retake 12", quick),
                            job("Old turntable", quick, enabled=False)])
    assert handle.call("GET", "/batch/start").code == 200
    wait_for(lambda: [j.status.value for j in handle.view().jobs][:2] == ["FINISHED", "RUNNING"],
             timeout=90)
    assert handle.call("PATCH", "/batch/jobs/4", {"position": 0}).code == 200  # another client
    watched = opened(open_page, handle)
    page = watched.page
    until(page, f"{CARD_ORDER} === '0,1,4,2,3,5'")
    # what appears after the first polls moves the cards down: a drag aimed before that misses
    until(page, f"!document.getElementById('queue-box').hidden && {LOADED_THUMBS} === 1", timeout=20)

    def card(job_id: int) -> str:
        return f"#jobs .job[data-job='{job_id}']"

    # only queued jobs move; the next one cannot go earlier, the last one not later
    assert all(page.is_hidden(f"{card(i)} .handle") for i in (0, 1, 5))
    assert all(page.is_visible(f"{card(i)} .handle") for i in (2, 3, 4))
    assert page.is_disabled(f"{card(4)} [data-focus='4:up']")
    assert page.is_disabled(f"{card(3)} [data-focus='3:down']")
    page.drag_and_drop(f"{card(3)} .handle", card(4))
    until(page, f"{CARD_ORDER} === '0,1,3,4,2,5'")
    page.focus(f"{card(2)} [data-focus='2:up']")
    page.keyboard.press("Enter")
    until(page, f"{CARD_ORDER} === '0,1,3,2,4,5'")
    until(page, "document.activeElement.dataset.focus === '2:up'")  # the moved card kept the focus
    page.click(f"{card(4)} [data-focus='4:skip']")
    until(page, f"{pill(4)} === 'DISABLED'")
    assert page.inner_text(f"{card(4)} [data-focus='4:skip']") == "Include"
    page.click(f"{card(5)} [data-focus='5:skip']")  # the skipped one comes back, last
    until(page, f"{CARD_ORDER} === '0,1,3,2,5,4'")
    assert handle.view().order == (0, 1, 3, 2, 5, 4)
    assert sent(watched, "PATCH", "/batch/jobs/") == [
        ("/batch/jobs/3", {"position": 0}), ("/batch/jobs/2", {"position": 1}),
        ("/batch/jobs/4", {"enabled": False}), ("/batch/jobs/5", {"enabled": True})]
    assert handle.call("DELETE", "/batch").code == 200
    wait_for(lambda: no_blender_with(endless), timeout=30)
    assert watched.errors == []


def test_a_refused_job_change_shows_the_servers_sentence(
        open_page: Callable[..., Watched], served: Callable[[], Served],
        blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    endless = blend_factory(**ENDLESS)
    handle = served()
    loaded_by(handle.call, [
        {"name": "Hero close-up", "blend_file": str(endless), "output": str(tmp_path / "hero_")},
        {"name": "Wide", "blend_file": str(endless), "output": str(tmp_path / "wide_")}])
    watched = opened(open_page, handle)
    page = watched.page
    until(page, "document.querySelectorAll('#jobs .job').length === 2")
    assert page.is_visible("#jobs .job[data-job='0'] [data-focus='0:skip']")
    # the batch starts elsewhere while this page's polls see nothing new: it still offers the skip
    page.route("**/batch", lambda route: route.fulfill(status=304) if route.request.method == "GET"
               else route.continue_())
    assert handle.call("GET", "/batch/start").code == 200
    wait_for(lambda: handle.view().jobs[0].status.value == "RUNNING", timeout=60)
    page.click("#jobs .job[data-job='0'] [data-focus='0:skip']")
    page.wait_for_selector("#notice.bad")
    assert page.inner_text("#notice") == "Job 0 cannot be skipped: it is rendering; only a queued job can"
    page.unroute("**/batch")
    until(page, "document.querySelector(\"#jobs .job[data-job='0'] [data-focus='0:skip']\").hidden")
    assert handle.view().jobs[0].status.value == "RUNNING"  # not skipped
    assert handle.call("DELETE", "/batch").code == 200
    wait_for(lambda: no_blender_with(endless), timeout=30)
    assert all("409" in e for e in watched.errors), watched.errors


def paused_with_frames_and_a_queue(call: Caller, blend_factory: Callable[..., Path], tmp_path: Path) -> Path:
    """A batch PAUSED after the frame once its first job wrote frames, two batches queued behind
    it; returns the folder of the frames."""
    steady, quick = blend_factory(**STEADY), blend_factory(**QUICK)
    out = tmp_path / "renders"
    loaded_by(call, [{"name": "Turntable", "blend_file": str(steady), "output": str(out / "turntable_"),
                      "animated": True, "frame_start": 1, "frame_end": 6},
                     {"name": "Hero still", "blend_file": str(quick), "output": str(out / "hero_")},
                     {"name": "Wide", "blend_file": str(quick), "output": str(out / "wide_")}])
    assert call("GET", "/batch/start").code == 200
    wait_for(lambda: polled(call)["jobs"][0]["frames_done"] >= 2, timeout=120)
    assert call("POST", "/batch/pause", {"when": "frame"}).code == 200
    wait_for(lambda: polled(call)["status"] == "PAUSED", timeout=60)
    for name, count in (("Product spots", 3), ("Trailer cut-downs", 5)):
        queued = recipe([{"name": f"{name} {i}", "blend_file": str(quick)} for i in range(count)])
        queued["name"] = name
        assert call("POST", "/queue", queued).code == 201
    return out


def test_a_paused_batch_with_a_queue_and_a_recipe_dropped_on_it(
        open_page: Callable[..., Watched], served: Callable[[], Served],
        blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    handle = served()
    paused_with_frames_and_a_queue(handle.call, blend_factory, tmp_path)
    done = handle.view().jobs[0].frames_done
    assert 2 <= done < 6 and no_blender_with(blend_factory(**STEADY))
    watched = opened(open_page, handle, viewport=(1200, 1000))
    page = watched.page
    until(page, "document.querySelector('#batch-status').textContent === 'PAUSED'")
    until(page, f"document.querySelectorAll('{ROWS}').length === 2")
    until(page, f"{LOADED_THUMBS} >= 1", timeout=20)
    assert row_names(page) == ["Product spots", "Trailer cut-downs"]
    assert page.is_visible("#continue") and page.is_hidden("#pause-group")
    assert page.inner_text("#jobs .job[data-job='0'] .facts dd").split() == [str(done), "/", "6"]
    shot = tmp_path / "dashboard-queue.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    target = os.environ.get(SCREENSHOT_ENV)
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)

    assert "to queue it" in page.inner_text("#drop")
    stills = recipe([{"name": "Still", "blend_file": str(blend_factory(**QUICK))}])
    drop_on_page(page, "stills.json", json.dumps({**stills, "name": "Client review stills"}))
    until(page, f"document.querySelectorAll('{ROWS}').length === 3")
    assert page.inner_text("#notice") == "Batch 'Client review stills' queued at position 2"
    assert queue_names(handle) == ["Product spots", "Trailer cut-downs", "Client review stills"]
    assert handle.service.paused and not sent(watched, "POST", "/batch/recipe")
    assert watched.errors == []


def test_a_paused_batch_comes_back_after_a_restart_and_continues(
        open_page: Callable[..., Watched], serve: Callable[..., ServerProcess],
        blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    """``--serve`` stopped (Ctrl+C) while its batch is PAUSED, then started again on its store."""
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "RENDERPLUS_TOKEN": QUEUE_TOKEN}

    def caller(server: ServerProcess) -> Caller:
        return lambda method, path, body=None: call(
            server.port, method, path, None if body is None else json.dumps(body),
            headers={"Authorization": f"Bearer {QUEUE_TOKEN}"})

    first = serve(env=env, token=QUEUE_TOKEN)
    out = paused_with_frames_and_a_queue(caller(first), blend_factory, tmp_path)
    written = {frame.name: frame.stat().st_mtime_ns for frame in out.glob("turntable_*.png")}
    assert len(written) == polled(caller(first))["jobs"][0]["frames_done"]
    first.close()
    assert no_blender_with(blend_factory(**STEADY))

    second = serve(env=env, token=QUEUE_TOKEN)  # the same store: the batch PAUSED, the queue held
    watched = open_page()
    page = watched.page
    page.goto(f"http://127.0.0.1:{second.port}/#token={QUEUE_TOKEN}")
    until(page, "document.querySelector('#batch-status').textContent === 'PAUSED'")
    until(page, f"document.querySelectorAll('{ROWS}').length === 2")
    assert row_names(page) == ["Product spots", "Trailer cut-downs"]
    assert page.is_visible("#queue-held") and page.is_visible("#queue-continue")
    assert page.is_visible("#continue") and page.is_hidden("#resume") and page.is_hidden("#pause-group")
    assert page.inner_text("#jobs .job[data-job='0'] .facts dd").split() == [str(len(written)), "/", "6"]
    page.click("#continue")
    until(page, "document.querySelector('#batch-status').textContent === 'RUNNING'", timeout=30)
    until(page, "document.querySelector('#batch-status').textContent === 'FINISHED'", timeout=180)
    assert sorted(frame.name for frame in out.glob("turntable_*.png")) == \
        [f"turntable_{i:04d}.png" for i in range(1, 7)]
    assert {name: (out / name).stat().st_mtime_ns for name in written} == written  # not rendered again
    queue = caller(second)("GET", "/queue").data
    assert queue["held"]
    assert [entry["name"] for entry in queue["batches"]] == ["Product spots", "Trailer cut-downs"]
    assert page.is_visible("#queue-held")
    assert watched.errors == []
