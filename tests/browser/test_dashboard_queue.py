"""The dashboard's queue, pause and job-order controls in a real browser, against a stand-in server.

The page talks to ``QueueRoutesDouble`` (queue_routes_double.py), which answers the queue, pause
and job-edit routes of docs/api.md, *Routes*, and records each request: these tests check what
the page sends (method, path, body, token) and what it shows of the answers.
``RENDERPLUS_QUEUE_SCREENSHOT=docs/images/dashboard-queue.png`` also writes the README's picture
of a paused batch with a queue (chromium's own ``--headless --screenshot``).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.helpers import wait_for

from .conftest import Watched, chromium_path, until
from .queue_routes_double import QueueRoutesDouble, Recorded, job

TOKEN = "queue-T0ken_for-tests"
SCREENSHOT_ENV = "RENDERPLUS_QUEUE_SCREENSHOT"
ROWS = "#queue li"
CARD_ORDER = "[...document.querySelectorAll('#jobs .job')].map(c => c.dataset.job).join()"


def running_batch(double: QueueRoutesDouble, status: str = "RUNNING") -> None:
    """Six jobs: #0 finished, #1 running, #4 moved to run next, then #2 and #3; #5 skipped.
    PAUSED: as a pause leaves it (#1 queued first again, its frames kept)."""
    start = time.time() - 300
    double.set_batch("Evening shots", "RUNNING" if status == "PAUSED" else status, [
        job(0, "Intro shot", "FINISHED", frames=4, done=4, started=start),
        job(1, "Hero close-up", "RUNNING", frames=12, done=5, started=start + 60),
        job(2, "Wide"), job(3, "Night pass"), job(4, "Retake 12", frames=3),
        job(5, "Old turntable", "DISABLED")], run_order=[4, 2, 3])
    if status == "PAUSED":
        double.finish_pause()


@pytest.fixture
def double() -> Iterator[QueueRoutesDouble]:
    made = QueueRoutesDouble(token=TOKEN)
    yield made
    made.stop()


def opened(open_page: Callable[..., Watched], double: QueueRoutesDouble,
           viewport: tuple[int, int] = (1200, 900)) -> Watched:
    url = double.start()
    watched = open_page(viewport=viewport)
    watched.page.goto(f"{url}/#token={TOKEN}")
    return watched


def row_names(page: Any) -> list[str]:
    return [str(text) for text in page.locator(f"{ROWS} strong").all_inner_texts()]


def job_order(page: Any) -> list[str]:
    return str(page.evaluate(CARD_ORDER)).split(",")


def sent(calls: list[Recorded]) -> list[tuple[str, Any]]:
    return [(c.path, c.body) for c in calls]


def test_the_queue_is_read_with_the_token_and_listed_under_the_batch(
        open_page: Callable[..., Watched], double: QueueRoutesDouble) -> None:
    running_batch(double)
    double.add_queued("Product spots", 3)
    double.add_queued("Trailer", 1)
    watched = opened(open_page, double)
    page = watched.page
    until(page, f"document.querySelectorAll('{ROWS}').length === 2")
    assert row_names(page) == ["Product spots", "Trailer"]
    assert page.locator(f"{ROWS} .position").all_inner_texts() == ["1", "2"]
    assert "3 jobs" in page.inner_text(f"{ROWS}:first-child")
    assert "1 job," in page.inner_text(f"{ROWS}:last-child")
    assert page.inner_text("#queue-count") == "(2 batches)"
    assert page.is_hidden("#queue-held") and page.is_visible("#queue-hold")
    # the queue card comes right after the current batch's
    assert page.evaluate("document.getElementById('batch').nextElementSibling.id") == "queue-box"
    reads = double.calls("GET", "/queue")
    assert reads and all(r.authorization == f"Bearer {TOKEN}" for r in reads)
    assert watched.errors == []


def test_queued_batches_move_by_drag_and_by_keyboard(
        open_page: Callable[..., Watched], double: QueueRoutesDouble) -> None:
    running_batch(double)
    first, second, third = (double.add_queued(name, 2) for name in ("A", "B", "C"))
    watched = opened(open_page, double)
    page = watched.page
    until(page, f"document.querySelectorAll('{ROWS}').length === 3")
    page.drag_and_drop(f"{ROWS}[data-id='{third}'] .handle", f"{ROWS}[data-id='{first}']")
    wait_for(lambda: double.calls("PATCH", "/queue/"), timeout=10)
    assert sent(double.calls("PATCH", "/queue/")) == [(f"/queue/{third}", {"position": 0})]
    until(page, f"document.querySelector('{ROWS} strong').textContent === 'C'")
    assert row_names(page) == ["C", "A", "B"]
    # no mouse: Tab to "later" of A, Enter; the focus stays with A's buttons after the redraw
    page.focus(f"{ROWS}[data-id='{first}'] [data-focus='{first}:down']")
    page.keyboard.press("Enter")
    until(page, f"document.querySelector('{ROWS}:last-child strong').textContent === 'A'")
    assert sent(double.calls("PATCH", "/queue/"))[-1] == (f"/queue/{first}", {"position": 2})
    until(page, f"document.activeElement.dataset.focus === '{first}:up'")  # "later" is disabled now
    page.keyboard.press("Enter")
    until(page, f"document.querySelector('{ROWS}:nth-child(2) strong').textContent === 'A'")
    assert sent(double.calls("PATCH", "/queue/"))[-1] == (f"/queue/{first}", {"position": 1})
    assert page.is_disabled(f"{ROWS}[data-id='{third}'] [data-focus='{third}:up']")
    assert second and watched.errors == []


def test_removing_holding_and_continuing_the_queue(open_page: Callable[..., Watched],
                                                   double: QueueRoutesDouble) -> None:
    running_batch(double)
    gone, became_current = double.add_queued("Dropped", 1), double.add_queued("Next up", 2)
    double.started_ids.add(became_current)
    watched = opened(open_page, double)
    page = watched.page
    until(page, f"document.querySelectorAll('{ROWS}').length === 2")
    page.click(f"{ROWS}[data-id='{gone}'] [data-focus='{gone}:remove']")  # confirm() is accepted
    until(page, f"document.querySelectorAll('{ROWS}').length === 1")
    assert "Removed Dropped from the queue" in page.inner_text("#notice")
    page.click(f"{ROWS}[data-id='{became_current}'] [data-focus='{became_current}:remove']")
    page.wait_for_selector("#notice.bad")
    assert "is the current batch now: DELETE /batch cancels it" in page.inner_text("#notice")
    removals = [c.path for c in double.calls("DELETE", "/queue/")]
    assert removals == [f"/queue/{gone}", f"/queue/{became_current}"]

    page.click("#queue-hold")
    page.wait_for_selector("#queue-held", state="visible")
    assert page.is_visible("#queue-continue") and page.is_hidden("#queue-hold")
    page.click("#queue-continue")
    page.wait_for_selector("#queue-held", state="hidden")
    assert [c.path for c in double.calls("POST", "/queue/")] == ["/queue/hold", "/queue/continue"]
    assert all("409" in e for e in watched.errors), watched.errors  # only the refused removal


def drop_on_page(page: Any, name: str, content: str, target: str = "#jobs") -> None:
    """A file dragged from the desktop and dropped anywhere on the page (here: on the jobs)."""
    page.evaluate("""([name, content, target]) => {
        const data = new DataTransfer();
        data.items.add(new File([content], name, {type: "application/json"}));
        const zone = document.querySelector(target);
        zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: data, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
    }""", [name, content, target])


@pytest.mark.parametrize("status", ["RUNNING", "PAUSED"])
def test_a_recipe_dropped_while_a_batch_runs_or_is_paused_is_queued(
        open_page: Callable[..., Watched], double: QueueRoutesDouble, status: str) -> None:
    running_batch(double, status)
    watched = opened(open_page, double)
    page = watched.page
    until(page, "document.querySelectorAll('#jobs .job').length === 6")
    until(page, "!document.getElementById('queue-box').hidden")
    assert "to queue it" in page.inner_text("#drop")
    drop_on_page(page, "bad.json", json.dumps({"name": "Bad", "jobs": []}))
    page.wait_for_selector("#notice.bad")
    assert page.inner_text("#notice") == \
        "Invalid recipe: 1 problem\njobs: a recipe needs a non-empty list of jobs"
    drop_on_page(page, "spots.json", json.dumps({"name": "Product spots", "jobs": [{}, {}]}))
    until(page, f"document.querySelectorAll('{ROWS}').length === 1")
    assert row_names(page) == ["Product spots"]
    assert page.inner_text("#notice") == "Queued Product spots: position 0"
    posted = double.calls("POST", "/queue")
    assert [c.body["name"] for c in posted] == ["Bad", "Product spots"]
    assert all(c.authorization == f"Bearer {TOKEN}" for c in posted)
    assert not double.calls("POST", "/batch/recipe")
    assert all("400" in e for e in watched.errors), watched.errors


def test_without_a_running_batch_a_dropped_recipe_is_loaded(open_page: Callable[..., Watched],
                                                           double: QueueRoutesDouble) -> None:
    running_batch(double, "FINISHED")
    watched = opened(open_page, double)
    page = watched.page
    until(page, "document.querySelector('#batch-status').textContent === 'FINISHED'")
    assert "to queue it" not in page.inner_text("#drop")
    drop_on_page(page, "next.json", json.dumps({"name": "Next", "jobs": [{}]}), target="#drop")
    wait_for(lambda: double.calls("POST", "/batch/recipe"), timeout=10)
    assert not double.calls("POST", "/queue")
    assert watched.errors == []


def test_a_server_without_the_queue_and_pause_routes_gets_the_page_it_had(
        open_page: Callable[..., Watched], double: QueueRoutesDouble) -> None:
    for route in ("/queue", "/queue/{id}", "/queue/hold", "/queue/continue", "/batch/pause"):
        del double.routes[route]
    running_batch(double)
    watched = opened(open_page, double)
    page = watched.page
    until(page, "document.querySelectorAll('#jobs .job').length === 6")
    wait_for(lambda: double.calls("GET", "/openapi.json"), timeout=10)
    page.wait_for_timeout(3500)  # past the queue's first turn
    assert page.is_hidden("#queue-box") and page.is_hidden("#pause-group")
    assert "to queue it" not in page.inner_text("#drop")
    drop_on_page(page, "next.json", json.dumps({"name": "Next", "jobs": [{}]}), target="#drop")
    page.wait_for_selector("#notice.bad")
    assert page.inner_text("#notice") == "A batch is running: POST /queue queues a recipe behind it"
    assert not double.calls("GET", "/queue") and not double.calls("POST", "/queue")
    assert all("409" in e for e in watched.errors), watched.errors


def test_pause_after_the_frame_shows_pausing_then_paused_and_continue_resumes(
        open_page: Callable[..., Watched], double: QueueRoutesDouble) -> None:
    running_batch(double)
    watched = opened(open_page, double)
    page = watched.page
    until(page, "!document.getElementById('pause-group').hidden")
    assert page.is_hidden("#continue") and page.is_hidden("#batch-pausing")
    page.click("#pause-frame")
    until(page, "!document.getElementById('batch-pausing').hidden")
    assert double.calls("POST", "/batch/pause")[0].body == {"when": "frame"}
    assert page.inner_text("#batch-pausing") == "pausing after the frame…"
    assert page.inner_text("#batch-status") == "RUNNING"
    # a weaker or equal pause is no use now; "now" still cuts it short
    assert page.is_disabled("#pause-frame") and page.is_disabled("#pause-job")
    assert page.is_enabled("#pause-now")
    page.click("#pause-now")
    until(page, "document.getElementById('batch-pausing').textContent === 'pausing now…'")
    assert [c.body for c in double.calls("POST", "/batch/pause")] == [{"when": "frame"}, {"when": "now"}]

    double.finish_pause()
    until(page, "document.querySelector('#batch-status').textContent === 'PAUSED'")
    assert page.get_attribute("#batch-status", "class") == "pill PAUSED"
    assert page.is_hidden("#pause-group") and page.is_hidden("#batch-pausing")
    assert page.is_visible("#continue") and page.is_disabled("#start") and page.is_enabled("#cancel-batch")
    assert page.is_hidden("#retry") and page.is_hidden("#resume")
    assert job_order(page) == ["0", "1", "4", "2", "3", "5"]  # the paused job goes first again
    page.click("#continue")
    until(page, "document.querySelector('#batch-status').textContent === 'RUNNING'")
    assert [c.path for c in double.calls("GET", "/batch/resume")] == ["/batch/resume"]
    assert page.is_hidden("#continue")
    assert all(r.authorization == f"Bearer {TOKEN}" for r in double.requests)
    assert watched.errors == []


def test_jobs_are_shown_in_run_order_and_queued_ones_move_skip_and_come_back(
        open_page: Callable[..., Watched], double: QueueRoutesDouble) -> None:
    running_batch(double)
    watched = opened(open_page, double)
    page = watched.page
    until(page, "document.querySelectorAll('#jobs .job').length === 6")
    assert job_order(page) == ["0", "1", "4", "2", "3", "5"]

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
    until(page, f"document.querySelector(\"{card(4)} .pill\").textContent === 'DISABLED'")
    assert page.inner_text(f"{card(4)} [data-focus='4:skip']") == "Include"
    page.click(f"{card(5)} [data-focus='5:skip']")  # the skipped one comes back, last
    until(page, f"{CARD_ORDER} === '0,1,3,2,5,4'")
    assert sent(double.calls("PATCH", "/batch/jobs/")) == [
        ("/batch/jobs/3", {"position": 0}), ("/batch/jobs/2", {"position": 1}),
        ("/batch/jobs/4", {"enabled": False}), ("/batch/jobs/5", {"enabled": True})]
    assert watched.errors == []


def test_a_refused_job_move_shows_the_servers_sentence(open_page: Callable[..., Watched],
                                                       double: QueueRoutesDouble) -> None:
    running_batch(double)
    watched = opened(open_page, double)
    page = watched.page
    until(page, "document.querySelectorAll('#jobs .job').length === 6")
    with double.lock:  # job 2 started meanwhile: the page still offers to skip it
        assert double.batch is not None
        double.batch["jobs"][2]["status"] = "RUNNING"
    page.click("#jobs .job[data-job='2'] [data-focus='2:skip']")
    page.wait_for_selector("#notice.bad")
    assert page.inner_text("#notice") == "Job 2 is RUNNING: only a queued job can change"
    until(page, "document.querySelector(\"#jobs .job[data-job='2'] [data-focus='2:skip']\").hidden")
    assert all("409" in e for e in watched.errors), watched.errors


def test_screenshot_of_a_paused_batch_with_a_queue(double: QueueRoutesDouble, tmp_path: Path) -> None:
    """chromium's own headless screenshot (no Playwright) of the page against the double."""
    target = os.environ.get(SCREENSHOT_ENV)
    executable = chromium_path()
    if not target or executable is None:
        pytest.skip(f"set {SCREENSHOT_ENV}=docs/images/dashboard-queue.png to write the picture")
    running_batch(double, "PAUSED")
    double.add_queued("Product spots", 3)
    double.add_queued("Trailer cut-downs", 5)
    double.add_queued("Client review stills", 12)
    url = double.start()
    shot = tmp_path / "dashboard-queue.png"
    subprocess.run([executable, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1180",
                    "--virtual-time-budget=6000", f"--screenshot={shot}", f"{url}/#token={TOKEN}"],
                   check=True, timeout=120, capture_output=True)
    assert shot.stat().st_size > 20_000
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_bytes(shot.read_bytes())
    assert double.calls("GET", "/queue")  # the picture shows what the page asked for
