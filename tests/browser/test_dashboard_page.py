"""The dashboard in a real browser, without Blender: the token's journey, actions, recipe drop, origins.

Batches here are held RUNNING by a PRE_BATCH hook (a shell ``sleep``), so the states are real
engine states; the render itself is tested in test_dashboard_render.py.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import RunOptions
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from renderplus.server.app import create_app
from renderplus.server.httpd import HttpServer
from tests.procs import processes_with
from tests.server.helpers import SLEEP_HOOK, wait_for

from .conftest import Watched, held_recipe, load, recipe, until

TOKEN = "dash-T0ken_for-tests"
JOB_CARDS = "#jobs .job"


def wait_for_jobs(page: Any, count: int) -> None:
    until(page, f"document.querySelectorAll('{JOB_CARDS}').length === {count}")


def job_names(page: Any) -> list[str]:
    return [str(text) for text in page.locator(f"{JOB_CARDS} .job-head strong").all_inner_texts()]


def test_an_open_server_shows_the_loaded_recipe_without_errors(
        open_page: Callable[..., Watched], dashboard_server: Callable[..., HttpServer]) -> None:
    server = dashboard_server()
    load(server, held_recipe())
    watched = open_page()
    watched.page.goto(server.url + "/")
    wait_for_jobs(watched.page, 3)
    # in run order (the poll's "order", docs/api.md, Changing a batch): the skipped job last
    assert job_names(watched.page) == ["#1 Intro shot", "#3 Wide", "#2 Hero close-up"]
    assert watched.page.inner_text("#batch-status") == "WAITING"
    assert watched.page.locator(f"{JOB_CARDS} .pill").all_inner_texts() == ["QUEUED", "QUEUED", "DISABLED"]
    assert watched.page.inner_text("#batch-name") == "dashboard batch"
    watched.page.wait_for_timeout(1500)  # a few polls (304s) go by
    assert watched.errors == []
    polls = [r for r in watched.requests if r.url.endswith("/batch")]
    assert len(polls) >= 2 and "if-none-match" in polls[-1].headers


def test_the_token_comes_from_the_address_then_leaves_it_for_session_storage(
        open_page: Callable[..., Watched], dashboard_server: Callable[..., HttpServer]) -> None:
    server = dashboard_server(token=TOKEN)
    load(server, held_recipe(), TOKEN)
    watched = open_page()
    page = watched.page
    page.goto(f"{server.url}/#token={TOKEN}")
    wait_for_jobs(page, 3)
    assert page.evaluate("location.hash") == "" and TOKEN not in page.url
    assert page.evaluate("sessionStorage.getItem('renderplus.token')") == TOKEN
    assert page.evaluate("document.cookie") == "" and page.context.cookies() == []
    assert page.evaluate("localStorage.length") == 0
    api_calls = [r for r in watched.requests if "/batch" in r.url or "/openapi.json" in r.url]
    assert api_calls and all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in api_calls)
    assert all(TOKEN not in r.url for r in watched.requests)
    page.reload()  # the tab keeps it; the address does not get it back
    wait_for_jobs(page, 3)
    assert page.evaluate("location.hash") == ""
    assert page.is_hidden("#token-box")
    assert watched.errors == []
    other_tab = open_page().page  # another browser session: nothing shared
    other_tab.goto(server.url + "/")
    other_tab.wait_for_selector("#token-box", state="visible")


def test_without_the_token_the_page_asks_for_it(open_page: Callable[..., Watched],
                                                dashboard_server: Callable[..., HttpServer]) -> None:
    server = dashboard_server(token=TOKEN)
    load(server, held_recipe(), TOKEN)
    watched = open_page()
    page = watched.page
    page.goto(server.url + "/")
    page.wait_for_selector("#token-box", state="visible")
    assert page.locator(JOB_CARDS).count() == 0
    page.fill("#token-input", "not-the-token")
    page.click("#token-form button")
    page.wait_for_selector("#token-box", state="visible")  # refused again: asked again
    page.fill("#token-input", TOKEN)
    page.click("#token-form button")
    wait_for_jobs(page, 3)
    assert page.is_hidden("#token-box")
    assert all("401" in error for error in watched.errors), watched.errors  # only the refusals


def test_start_cancel_a_job_and_cancel_the_batch_from_the_page(
        open_page: Callable[..., Watched], dashboard_server: Callable[..., HttpServer],
        service: BatchService) -> None:
    server = dashboard_server(token=TOKEN)
    load(server, held_recipe(), TOKEN)
    watched = open_page()
    page = watched.page
    page.goto(f"{server.url}/#token={TOKEN}")
    wait_for_jobs(page, 3)
    assert page.is_hidden(f"{JOB_CARDS}[data-job='0'] button")  # nothing to cancel yet
    page.click("#start")
    wait_for(lambda: service.running, timeout=10)
    until(page, "document.querySelector('#batch-status').textContent === 'RUNNING'")
    assert page.is_disabled("#start")
    page.click(f"{JOB_CARDS}[data-job='2'] button")  # a queued job: cancelled before it starts
    until(page, "document.querySelector(\"#jobs .job[data-job='2'] .pill\").textContent === 'CANCELLED'")
    assert service.running
    page.click("#cancel-batch")  # the confirm() dialog is accepted by the fixture
    until(page, "document.querySelector('#batch-status').textContent === 'CANCELLED'", timeout=20)
    assert not service.running
    assert "Batch cancelled" in page.inner_text("#notice")
    assert watched.errors == []


def drop_file(page: Any, name: str, content: str) -> None:
    """What a user's drag and drop of a file does: a drop event carrying it."""
    page.evaluate("""([name, content]) => {
        const data = new DataTransfer();
        data.items.add(new File([content], name, {type: "application/json"}));
        const zone = document.getElementById("drop");
        zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: data, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
    }""", [name, content])


def test_dropping_a_recipe_submits_it_and_shows_what_is_wrong(
        open_page: Callable[..., Watched], dashboard_server: Callable[..., HttpServer]) -> None:
    server = dashboard_server(token=TOKEN)
    watched = open_page()
    page = watched.page
    page.goto(f"{server.url}/#token={TOKEN}")
    page.wait_for_selector("#no-batch", state="visible")
    bad = recipe([{"blend_file": "a.blend", "frame_start": 5, "frame_end": 1, "animated": True}])
    drop_file(page, "bad.json", json.dumps(bad))
    page.wait_for_selector("#notice.bad")
    assert "Invalid recipe" in page.inner_text("#notice")
    assert "jobs[0].frame_end" in page.inner_text("#notice")
    drop_file(page, "batch.json", json.dumps(held_recipe()))
    wait_for_jobs(page, 3)
    assert "Recipe loaded: 3 jobs, 2 enabled" in page.inner_text("#notice")
    assert page.locator("#notice.ok").count() == 1
    # the only errors: no batch yet (409), the bad recipe (400)
    assert all("409" in e or "400" in e for e in watched.errors), watched.errors


@pytest.fixture
def other_origin(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """``other_origin(html)``: the page served from another port of 127.0.0.1 (same site, other
    origin: what another user's server or any local web app is)."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler,
                                                                    directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def serve(html: str) -> str:
        (folder / "index.html").write_text(html)
        return f"http://127.0.0.1:{httpd.server_address[1]}/index.html"

    yield serve
    httpd.shutdown()
    httpd.server_close()


ATTACK = """<!DOCTYPE html><script>
window.results = {};
const base = "http://127.0.0.1:%d";
async function attempt(name, url, init) {
  try { const r = await fetch(url, init); window.results[name] = r.type + " " + r.status; }
  catch (e) { window.results[name] = "refused"; }
}
(async () => {
  await attempt("read", base + "/batch", {});
  await attempt("read_frame", base + "/frames/current/0/last", {});
  await attempt("start", base + "/batch/start", {mode: "no-cors"});
  await attempt("recipe", base + "/batch/recipe", {method: "POST", mode: "no-cors", body: "{}",
                                                    headers: {"Content-Type": "text/plain"}});
  await attempt("cancel", base + "/batch", {method: "DELETE"});
  window.results.done = true;
})();
</script><iframe id="framed" src="http://127.0.0.1:%d/"></iframe>"""


def test_a_page_from_another_origin_can_neither_read_nor_drive_it(
        open_page: Callable[..., Watched], dashboard_server: Callable[..., HttpServer],
        service: BatchService, other_origin: Callable[[str], str]) -> None:
    server = dashboard_server()  # no token at all: only the origin rules stand in the way
    load(server, held_recipe())
    page = open_page().page
    page.goto(other_origin(ATTACK % (server.port, server.port)))
    until(page, "window.results && window.results.done")
    results = page.evaluate("window.results")
    assert results["read"] == "refused" and results["read_frame"] == "refused"
    assert results["cancel"] == "refused"
    assert results["start"] == "opaque 0" and results["recipe"] == "opaque 0"  # sent blind, and:
    wait_for(lambda: page.frames[-1].url.endswith(f":{server.port}/"), timeout=10)
    page.wait_for_timeout(500)
    assert service.batch is None and not service.running       # the server refused to start it
    assert service.recipe is not None and service.recipe.name == "dashboard batch"  # nor replaced it
    framed = page.frames[-1]
    assert framed.query_selector("#jobs") is None               # the dashboard never rendered in it
    assert "refused" in framed.content() or framed.content().count("<") <= 6


def test_retry_re_runs_the_cancelled_jobs_where_the_server_keeps_a_store(
        open_page: Callable[..., Watched], tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path / "state")
    service = BatchService(options=RunOptions(kill_grace=2.0), work_dir=tmp_path / "work", store=store)
    server = HttpServer(create_app(service), token=TOKEN).start("127.0.0.1", 0)
    try:
        load(server, held_recipe(), TOKEN)
        watched = open_page()
        page = watched.page
        page.goto(f"{server.url}/#token={TOKEN}")
        wait_for_jobs(page, 3)
        assert page.is_hidden("#retry") and page.is_hidden("#resume")
        page.click("#start")
        until(page, "document.querySelector('#batch-status').textContent === 'RUNNING'")
        page.click("#cancel-batch")
        until(page, "document.querySelector('#batch-status').textContent === 'CANCELLED'", timeout=20)
        until(page, "!document.getElementById('retry').hidden")
        page.click("#retry")
        until(page, "document.querySelector('#batch-status').textContent === 'RUNNING'")
        assert "Batch resumed" in page.inner_text("#notice")
        assert service.running
        assert watched.errors == []
    finally:
        service.shutdown(timeout=20)
        server.stop()
        store.close()
        wait_for(lambda: not processes_with(SLEEP_HOOK), timeout=15)
