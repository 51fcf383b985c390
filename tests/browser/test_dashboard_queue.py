"""The dashboard's queue in a real browser against the real app with a batch store: the queue
read with the token, moved by drag and by keyboard, removed, held and continued; recipes dropped
on the page queued or loaded; and the page an older server (no queue, no pause) gets.

The current batch is held RUNNING by a PRE_BATCH hook (a shell ``sleep``), so no Blender is
needed; the pause, the job order and the screenshot, with Blender, are test_dashboard_pause.py.
Two moments a server cannot be asked for are made in the browser (Playwright's ``page.route``),
never in the server: a page whose last read of the queue is older than the server's queue (a
queued batch became current meanwhile), and an older server's route list (GET /openapi.json).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from renderplus.server.httpd import HttpServer
from tests.server.helpers import wait_for

from .conftest import QUEUE_TOKEN, Served, Watched, held_recipe, load, until

ROWS = "#queue li"
AUTHORIZATION = f"Bearer {QUEUE_TOKEN}"


def queued_recipe(name: str, jobs: int = 3) -> dict[str, Any]:
    """A recipe that, once current, is held RUNNING by its PRE_BATCH hook (no Blender)."""
    data = held_recipe()
    data["name"] = name
    data["jobs"] = (data["jobs"] * jobs)[:jobs]
    data["jobs"] = [{**job, "id": index, "name": f"{name} {index}"} for index, job in enumerate(data["jobs"])]
    return data


def running(served: Callable[[], Served], *queued: tuple[str, int]) -> tuple[Served, list[int]]:
    """A server whose current batch is held RUNNING, with ``queued`` (name, jobs) behind it."""
    handle = served()
    assert handle.call("POST", "/batch/recipe", held_recipe()).code == 200
    assert handle.call("GET", "/batch/start").code == 200
    ids = []
    for name, jobs in queued:
        answer = handle.call("POST", "/queue", queued_recipe(name, jobs))
        assert answer.code == 201 and not answer.data["started"], answer.data
        ids.append(answer.data["id"])
    return handle, ids


def opened(open_page: Callable[..., Watched], handle: Served) -> Watched:
    watched = open_page()
    watched.page.goto(f"{handle.server.url}/#token={QUEUE_TOKEN}")
    return watched


def row_names(page: Any) -> list[str]:
    return [str(text) for text in page.locator(f"{ROWS} strong").all_inner_texts()]


def queue_names(handle: Served) -> list[str]:
    return [entry.name for entry in handle.service.queue_view().entries]


def sent(watched: Watched, method: str, prefix: str) -> list[tuple[str, Any]]:
    """(path, JSON body) of each request the page sent with ``method`` to a path under ``prefix``."""
    found = []
    for request in watched.requests:
        path = urlsplit(request.url).path
        if request.method == method and path.startswith(prefix):
            found.append((path, request.post_data_json if request.post_data else None))
    return found


def drop_on_page(page: Any, name: str, content: str, target: str = "#jobs") -> None:
    """A file dragged from the desktop and dropped anywhere on the page (here: on the jobs)."""
    page.evaluate("""([name, content, target]) => {
        const data = new DataTransfer();
        data.items.add(new File([content], name, {type: "application/json"}));
        const zone = document.querySelector(target);
        zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: data, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
    }""", [name, content, target])


def test_the_queue_is_read_with_the_token_and_listed_under_the_batch(
        open_page: Callable[..., Watched], served: Callable[[], Served]) -> None:
    handle, _ = running(served, ("Product spots", 3), ("Trailer", 1))
    watched = opened(open_page, handle)
    page = watched.page
    until(page, f"document.querySelectorAll('{ROWS}').length === 2")
    assert row_names(page) == ["Product spots", "Trailer"]
    assert page.locator(f"{ROWS} .position").all_inner_texts() == ["1", "2"]
    assert "2 jobs" in page.inner_text(f"{ROWS}:first-child")   # its 2nd of 3 jobs is disabled
    assert "1 job," in page.inner_text(f"{ROWS}:last-child")
    assert page.inner_text("#queue-count") == "(2 batches)"
    assert page.is_hidden("#queue-held") and page.is_visible("#queue-hold")
    # the queue card comes right after the current batch's
    assert page.evaluate("document.getElementById('batch').nextElementSibling.id") == "queue-box"
    reads = [r for r in watched.requests if r.method == "GET" and urlsplit(r.url).path == "/queue"]
    assert reads and all(r.headers.get("authorization") == AUTHORIZATION for r in reads)
    assert watched.errors == []


def test_queued_batches_move_by_drag_and_by_keyboard(
        open_page: Callable[..., Watched], served: Callable[[], Served]) -> None:
    handle, (first, _, third) = running(served, ("A", 2), ("B", 2), ("C", 2))
    watched = opened(open_page, handle)
    page = watched.page
    until(page, f"document.querySelectorAll('{ROWS}').length === 3")
    page.drag_and_drop(f"{ROWS}[data-id='{third}'] .handle", f"{ROWS}[data-id='{first}']")
    until(page, f"document.querySelector('{ROWS} strong').textContent === 'C'")
    assert sent(watched, "PATCH", "/queue/") == [(f"/queue/{third}", {"position": 0})]
    assert row_names(page) == queue_names(handle) == ["C", "A", "B"]
    # no mouse: the focus on "later" of A, Enter; the focus stays with A's buttons after the redraw
    page.focus(f"{ROWS}[data-id='{first}'] [data-focus='{first}:down']")
    page.keyboard.press("Enter")
    until(page, f"document.querySelector('{ROWS}:last-child strong').textContent === 'A'")
    assert sent(watched, "PATCH", "/queue/")[-1] == (f"/queue/{first}", {"position": 2})
    until(page, f"document.activeElement.dataset.focus === '{first}:up'")  # "later" is disabled now
    page.keyboard.press("Enter")
    until(page, f"document.querySelector('{ROWS}:nth-child(2) strong').textContent === 'A'")
    assert sent(watched, "PATCH", "/queue/")[-1] == (f"/queue/{first}", {"position": 1})
    assert row_names(page) == queue_names(handle) == ["C", "A", "B"]
    assert page.is_disabled(f"{ROWS}[data-id='{third}'] [data-focus='{third}:up']")
    assert watched.errors == []


def freeze_queue_reads(page: Any) -> dict[str, str]:
    """From now on the page's GET /queue gets the queue as it is now, whatever the server's
    becomes (the page read it, then someone else changed it); other requests go through."""
    frozen: dict[str, str] = {}

    def handler(route: Any) -> None:
        if route.request.method != "GET":
            route.continue_()
            return
        if "body" not in frozen:
            frozen["body"] = route.fetch().text()
        route.fulfill(status=200, content_type="application/json", body=frozen["body"])

    page.route("**/queue", handler)
    wait_for(lambda: page.evaluate("1") and "body" in frozen, timeout=15)  # the page read it once
    return frozen


def test_removing_holding_and_continuing_the_queue(open_page: Callable[..., Watched],
                                                   served: Callable[[], Served]) -> None:
    handle, (gone, became_current) = running(served, ("Dropped", 1), ("Next up", 2))
    watched = opened(open_page, handle)
    page = watched.page
    until(page, f"document.querySelectorAll('{ROWS}').length === 2")
    page.click(f"{ROWS}[data-id='{gone}'] [data-focus='{gone}:remove']")  # confirm() is accepted
    until(page, f"document.querySelectorAll('{ROWS}').length === 1")
    assert page.inner_text("#notice") == f"Queued batch {gone} removed from the queue"
    assert queue_names(handle) == ["Next up"]

    # the current batch is cancelled elsewhere: "Next up" starts, the page has not read it yet
    freeze_queue_reads(page)
    assert handle.call("DELETE", "/batch").code == 200
    wait_for(lambda: (view := handle.service.view()) is not None and view.name == "Next up"
             and handle.service.running, timeout=20)
    page.click(f"{ROWS}[data-id='{became_current}'] [data-focus='{became_current}:remove']")
    page.wait_for_selector("#notice.bad")
    assert page.inner_text("#notice") == (f"Queued batch {became_current} has started: it is the "
                                          "current batch now; DELETE /batch cancels it")
    assert handle.service.running and handle.view().name == "Next up"  # not cancelled
    page.unroute("**/queue")
    until(page, f"document.querySelectorAll('{ROWS}').length === 0")
    assert page.is_visible("#queue-empty")
    assert sent(watched, "DELETE", "/queue/") == [(f"/queue/{gone}", None),
                                                  (f"/queue/{became_current}", None)]

    page.click("#queue-hold")
    page.wait_for_selector("#queue-held", state="visible")
    assert handle.service.queue_view().held
    assert page.is_visible("#queue-continue") and page.is_hidden("#queue-hold")
    page.click("#queue-continue")
    page.wait_for_selector("#queue-held", state="hidden")
    assert not handle.service.queue_view().held
    assert sent(watched, "POST", "/queue/") == [("/queue/hold", None), ("/queue/continue", None)]
    assert all("409" in e for e in watched.errors), watched.errors  # only the refused removal


def test_a_recipe_dropped_while_a_batch_runs_is_queued(open_page: Callable[..., Watched],
                                                       served: Callable[[], Served]) -> None:
    handle, _ = running(served)
    watched = opened(open_page, handle)
    page = watched.page
    until(page, "document.querySelectorAll('#jobs .job').length === 3")
    until(page, "!document.getElementById('queue-box').hidden")
    assert "to queue it" in page.inner_text("#drop")
    drop_on_page(page, "bad.json", json.dumps({"version": 2.2, "name": "Bad", "jobs": [{"blend_file": 3}]}))
    page.wait_for_selector("#notice.bad")
    assert page.inner_text("#notice") == \
        "Invalid recipe: 1 error\njobs[0].blend_file: must be a string (got 3)"
    drop_on_page(page, "spots.json", json.dumps(queued_recipe("Product spots")))
    until(page, f"document.querySelectorAll('{ROWS}').length === 1")
    assert row_names(page) == queue_names(handle) == ["Product spots"]
    assert page.inner_text("#notice") == "Batch 'Product spots' queued at position 0"
    posted = [r for r in watched.requests if r.method == "POST" and urlsplit(r.url).path == "/queue"]
    assert [r.post_data_json["name"] for r in posted] == ["Bad", "Product spots"]
    assert all(r.headers.get("authorization") == AUTHORIZATION for r in posted)
    assert not sent(watched, "POST", "/batch/recipe")
    assert handle.service.running and handle.view().name == "dashboard batch"
    assert all("400" in e for e in watched.errors), watched.errors


def test_without_a_running_batch_a_dropped_recipe_is_loaded(open_page: Callable[..., Watched],
                                                           served: Callable[[], Served]) -> None:
    handle, _ = running(served)
    assert handle.call("DELETE", "/batch").code == 200
    watched = opened(open_page, handle)
    page = watched.page
    until(page, "document.querySelector('#batch-status').textContent === 'CANCELLED'")
    until(page, "!document.getElementById('queue-box').hidden")
    assert "to queue it" not in page.inner_text("#drop")
    drop_on_page(page, "next.json", json.dumps(queued_recipe("Next")), target="#drop")
    until(page, "document.querySelector('#batch-name').textContent === 'Next'")
    assert page.inner_text("#batch-status") == "WAITING"
    assert sent(watched, "POST", "/batch/recipe") and not sent(watched, "POST", "/queue")
    assert queue_names(handle) == []
    assert watched.errors == []


def older_server(page: Any) -> None:
    """The page sees the route list of a server from before the queue and the pause."""
    def handler(route: Any) -> None:
        document = route.fetch().json()
        for path in [p for p in document["paths"] if p.startswith("/queue") or p == "/batch/pause"]:
            del document["paths"][path]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(document))

    page.route("**/openapi.json", handler)


def test_a_server_without_the_queue_and_pause_routes_gets_the_page_it_had(
        open_page: Callable[..., Watched], served: Callable[[], Served]) -> None:
    handle, _ = running(served)
    watched = open_page()
    page = watched.page
    older_server(page)
    page.goto(f"{handle.server.url}/#token={QUEUE_TOKEN}")
    until(page, "document.querySelectorAll('#jobs .job').length === 3")

    def polls_after_the_routes() -> int:
        paths = [urlsplit(r.url).path for r in watched.requests]
        return paths[paths.index("/openapi.json"):].count("/batch") if "/openapi.json" in paths else 0

    # the first poll once the page knows the routes asks for the queue where the server has it
    wait_for(lambda: page.evaluate("1") and polls_after_the_routes() >= 2, timeout=15)
    assert page.is_hidden("#queue-box") and page.is_hidden("#pause-group")
    assert "to queue it" not in page.inner_text("#drop")
    drop_on_page(page, "next.json", json.dumps(queued_recipe("Next")), target="#drop")
    page.wait_for_selector("#notice.bad")
    assert page.inner_text("#notice") == ("A batch is already running; cancel it or wait until it ends; "
                                          "or queue the recipe behind it: POST /queue")
    assert not sent(watched, "GET", "/queue") and not sent(watched, "POST", "/queue")
    assert all("409" in e for e in watched.errors), watched.errors


def test_without_a_store_the_queue_is_empty_and_without_the_token_it_is_not_asked(
        open_page: Callable[..., Watched], dashboard_server: Callable[..., HttpServer]) -> None:
    server = dashboard_server(token=QUEUE_TOKEN)  # the app on a service that keeps no store
    load(server, held_recipe(), QUEUE_TOKEN)
    watched = open_page()
    page = watched.page
    page.goto(f"{server.url}/#token={QUEUE_TOKEN}")
    until(page, "!document.getElementById('queue-box').hidden")
    assert page.is_visible("#queue-empty") and page.inner_text("#queue-count") == ""
    reads = [r for r in watched.requests if r.method == "GET" and urlsplit(r.url).path == "/queue"]
    assert reads[0].response().status == 200
    assert watched.errors == []

    stranger = open_page()  # another browser session, without the token
    stranger.page.goto(server.url + "/")
    stranger.page.wait_for_selector("#token-box", state="visible")
    wait_for(lambda: stranger.page.evaluate("1") and sum(
        urlsplit(r.url).path == "/batch" for r in stranger.requests) >= 2, timeout=30)
    # the page learns the routes only with the token: no queue read, so no refused one either
    assert not [r for r in stranger.requests if urlsplit(r.url).path == "/queue"]
    assert stranger.page.is_hidden("#queue-box")
    assert stranger.errors and all("401" in e for e in stranger.errors)  # the polls that ask for it


def seed_history(handle: Served, source_file: str) -> None:
    """One earlier run of ``source_file`` in the store's history (start-up 2 s, a first frame of
    3 s, then 1 s a frame): what a Blender run records, written without Blender."""
    from renderplus.batch.store.run_history import RunFacts, record_frame_time, record_run

    own = {"engine": "CYCLES", "width": 100, "height": 100, "percentage": 100, "samples": 8}
    facts = RunFacts(source_file, scene="Scene", engine="CYCLES", device="CPU", width=100,
                     height=100, percentage=100, samples=8, frames=4,
                     shape={"asked": {}, "own": own})
    record_run(handle.store, "seeded", 1, 0, facts, started=1000.0, startup=2.0)
    for frame, seconds in enumerate((3.0, 1.0, 1.0, 1.0), start=1):
        record_frame_time(handle.store, "seeded", frame, seconds, at=1000.0 + frame)


def test_the_queue_shows_each_batchs_estimated_start_and_end_and_when_everything_is_done(
        open_page: Callable[..., Watched], served: Callable[[], Served]) -> None:
    handle = served()
    assert handle.call("POST", "/batch/recipe", held_recipe()).code == 200
    recipe = handle.service.recipe
    assert recipe is not None
    seed_history(handle, recipe.resolve("scene.blend"))
    assert handle.call("GET", "/batch/start").code == 200
    for name, jobs in (("Product spots", 3), ("Trailer", 1)):
        assert handle.call("POST", "/queue", queued_recipe(name, jobs)).code == 201
    listed = handle.call("GET", "/queue").data
    assert listed["estimated_end"] is not None
    assert [b["estimate_runs"] for b in listed["batches"]] == [1, 1]
    first, second = listed["batches"]
    assert first["estimated_end"] == second["estimated_start"] < second["estimated_end"]
    watched = opened(open_page, handle)
    page = watched.page
    until(page, f"document.querySelectorAll('{ROWS}').length === 2")
    page.wait_for_selector("#queue-end", state="visible")
    assert page.inner_text("#queue-end").startswith("Everything done about ")
    assert "done about" in page.inner_text(f"{ROWS}:first-child")
    assert "(from 1 similar run)" in page.inner_text(f"{ROWS}:first-child")
    # the current batch's queued jobs have an ETA before they start, from that run
    until(page, "document.getElementById('jobs').innerText.includes('similar run')")
    assert watched.errors == []
    shot = os.environ.get("RENDERPLUS_ESTIMATES_SCREENSHOT")   # docs/images/dashboard-estimates.png
    if shot:
        page.set_viewport_size({"width": 1100, "height": 900})
        page.screenshot(path=shot, full_page=True)
