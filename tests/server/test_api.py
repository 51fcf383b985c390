"""Every route of docs/api.md over real HTTP, with every status code it gives."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.service import BatchService
from renderplus.server import VERSION, ServerHandle
from renderplus.server.httpd import HttpServer
from tests.procs import processes_with

from .helpers import (
    SLEEP_HOOK,
    call,
    held_recipe,
    port_is_free,
    raw_exchange,
    recipe_data,
    split_response,
    wait_for,
)


def start_held_batch(port: int) -> None:
    assert call(port, "POST", "/batch/recipe", held_recipe()).code == 200
    assert call(port, "GET", "/batch/start").code == 200
    wait_for(lambda: processes_with(SLEEP_HOOK))


# ------------------------------------------------------------------ information routes

def test_test_route_describes_the_server(server: ServerHandle, service: BatchService) -> None:
    answer = call(server.port, "GET", "/test")
    assert answer.code == 200
    assert answer.headers["content-type"].startswith("application/json")
    data = answer.data
    assert data["version"] == VERSION and data["api_version"] == "2.2"
    assert data["running"] is False and data["batch"] is None
    assert data["blender_bin"] == service.blender_bin
    assert isinstance(data["status"], str) and data["status"]


def test_ready_says_why_not_until_a_recipe_is_loaded(server: ServerHandle) -> None:
    data = call(server.port, "GET", "/batch/ready").data
    assert data["ready"] is False
    assert any("recipe" in reason.lower() for reason in data["reasons"])
    call(server.port, "POST", "/batch/recipe", recipe_data([{}]))
    data = call(server.port, "GET", "/batch/ready").data
    assert data == {**data, "ready": True, "reasons": []}


def test_ready_reports_a_missing_blender(server: ServerHandle, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-blender")
    call(server.port, "POST", "/batch/recipe", recipe_data([{}], blender_bin=missing))
    data = call(server.port, "GET", "/batch/ready").data
    assert data["ready"] is False
    assert any(missing in reason for reason in data["reasons"])
    answer = call(server.port, "GET", "/batch/start")
    assert answer.code == 409 and missing in answer.data["status"]


# ------------------------------------------------------------------ polling before any batch

@pytest.mark.parametrize("path", ["/batch", "/batch/name", "/batch/jobs/0"])
def test_polls_answer_409_when_no_batch_has_been_run(server: ServerHandle, path: str) -> None:
    answer = call(server.port, "GET", path)
    assert answer.code == 409
    assert "no batch" in answer.data["status"].lower()


def test_a_loaded_recipe_polls_as_a_waiting_batch(server: ServerHandle) -> None:
    recipe = recipe_data([{"name": "a"}, {"name": "b", "enabled": False}], name="/home/u/batch.blend")
    answer = call(server.port, "POST", "/batch/recipe", recipe)
    assert answer.code == 200
    assert answer.data["jobs"] == 2 and answer.data["enabled"] == 1
    poll = call(server.port, "GET", "/batch").data
    assert poll["status"] == "WAITING"
    assert [job["status"] for job in poll["jobs"]] == ["QUEUED", "DISABLED"]
    assert poll["current_job"] is None
    assert set(poll["stats"].values()) == {None}
    assert call(server.port, "GET", "/batch/name").data == {"name": "/home/u/batch.blend"}
    job = call(server.port, "GET", "/batch/jobs/1").data
    assert job["id"] == 1 and job["status"] == "DISABLED" and job["progress"] == 0


def test_poll_answers_304_while_nothing_changed(server: ServerHandle) -> None:
    call(server.port, "POST", "/batch/recipe", recipe_data([{}]))
    first = call(server.port, "GET", "/batch")
    etag = first.headers["etag"]
    again = call(server.port, "GET", "/batch", headers={"If-None-Match": etag})
    assert again.code == 304 and again.raw == b""
    call(server.port, "POST", "/batch/recipe", recipe_data([{}, {}]))  # a new recipe: a new batch
    changed = call(server.port, "GET", "/batch", headers={"If-None-Match": etag})
    assert changed.code == 200 and len(changed.data["jobs"]) == 2


# ------------------------------------------------------------------ job ids (docs/api.md, Job ids)

@pytest.mark.parametrize("job_id", ["abc", "-1", "1.5", "%20", "0x1", "", "1/2", "99999999999"])
def test_bad_job_ids_answer_400(server: ServerHandle, job_id: str) -> None:
    call(server.port, "POST", "/batch/recipe", recipe_data([{}]))
    answer = call(server.port, "GET", f"/batch/jobs/{job_id}")
    assert answer.code == 400
    assert answer.data["status"]


def test_job_id_out_of_range_answers_400_naming_the_range(server: ServerHandle) -> None:
    call(server.port, "POST", "/batch/recipe", recipe_data([{}, {}, {}]))
    answer = call(server.port, "GET", "/batch/jobs/3")
    assert answer.code == 400
    assert "0-2" in answer.data["status"]
    assert call(server.port, "GET", "/batch/jobs/2").code == 200


# ------------------------------------------------------------------ POST /batch/recipe

@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
def test_recipe_with_a_wrong_content_type_answers_406(server: ServerHandle, content_type: str | None) -> None:
    answer = call(server.port, "POST", "/batch/recipe", recipe_data([{}]), content_type=content_type)
    assert answer.code == 406
    assert "application/json" in answer.data["status"]
    assert call(server.port, "GET", "/batch").code == 409  # nothing was loaded


def test_recipe_content_type_may_carry_a_charset(server: ServerHandle) -> None:
    answer = call(server.port, "POST", "/batch/recipe", recipe_data([{}]),
                  content_type="application/json; charset=utf-8")
    assert answer.code == 200


@pytest.mark.parametrize("body, fragment", [
    (b"{not json", "not valid JSON"),
    (b"", "not valid JSON"),
    (b"[1, 2, 3]", "must be a JSON object"),
    (b'"a string"', "must be a JSON object"),
    (b"\xff\xfe\x00", "not UTF-8"),
])
def test_recipe_that_is_not_a_json_object_answers_400(server: ServerHandle, body: bytes,
                                                      fragment: str) -> None:
    answer = call(server.port, "POST", "/batch/recipe", body)
    assert answer.code == 400
    assert any(fragment in error["message"] for error in answer.data["errors"])


def test_invalid_recipe_answers_400_listing_every_error(server: ServerHandle) -> None:
    recipe = recipe_data([{"frame_start": 10, "frame_end": 2, "threads": "four"},
                          {"engine": 42, "size": [0, 10]}])
    recipe["version"] = 1.0
    answer = call(server.port, "POST", "/batch/recipe", recipe)
    assert answer.code == 400
    paths = {error["path"] for error in answer.data["errors"]}
    assert {"version", "jobs[0].frame_end", "jobs[0].threads", "jobs[1].engine", "jobs[1].size"} <= paths
    assert str(len(answer.data["errors"])) in answer.data["status"]
    assert call(server.port, "GET", "/batch").code == 409


def test_a_valid_recipe_replaces_the_previous_one(server: ServerHandle) -> None:
    call(server.port, "POST", "/batch/recipe", recipe_data([{}], name="first"))
    call(server.port, "POST", "/batch/recipe", recipe_data([{}, {}], name="second"))
    assert call(server.port, "GET", "/batch/name").data["name"] == "second"


def test_recipe_warns_about_missing_blend_files(server: ServerHandle, service: BatchService) -> None:
    answer = call(server.port, "POST", "/batch/recipe", recipe_data([{"blend_file": "nowhere.blend"}]))
    assert answer.code == 200
    # relative to the work folder (docs/api.md, Relative paths)
    expected = str(service.work_dir / "nowhere.blend")
    assert any(expected in warning for warning in answer.data["warnings"])


def test_recipe_warns_about_unknown_keys_with_a_suggestion(server: ServerHandle) -> None:
    answer = call(server.port, "POST", "/batch/recipe", recipe_data([{"frame_strat": 5}]))
    assert answer.code == 200
    assert "jobs[0].frame_strat: unknown key; did you mean frame_start?" in answer.data["warnings"]


def test_huge_recipe_answers_413(custom_server: Callable[..., HttpServer]) -> None:
    small = custom_server(max_recipe=2048)
    big = recipe_data([{"name": "x" * 100} for _ in range(40)])
    answer = call(small.port, "POST", "/batch/recipe", big)
    assert answer.code == 413
    assert "2048" in answer.data["status"]
    assert call(small.port, "GET", "/batch").code == 409


def test_a_huge_announced_recipe_is_refused_before_it_is_sent(server: ServerHandle) -> None:
    head = (f"POST /batch/recipe HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 4294967296\r\n\r\n{").encode()
    code, _, body = split_response(raw_exchange(server.port, head))
    assert code == 413
    assert b"too large" in body


def test_chunked_recipe_answers_411(server: ServerHandle) -> None:
    payload = (f"POST /batch/recipe HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
               "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
               "2\r\n{}\r\n0\r\n\r\n").encode()
    code, headers, body = split_response(raw_exchange(server.port, payload))
    assert code == 411
    assert headers["content-type"] == "application/json" and b"Content-Length" in body


# ------------------------------------------------------------------ start, running, cancel

def test_start_without_a_recipe_answers_409(server: ServerHandle) -> None:
    answer = call(server.port, "GET", "/batch/start")
    assert answer.code == 409
    assert "recipe" in answer.data["status"].lower()


@pytest.mark.parametrize("path", ["/batch", "/batch/jobs/current"])
def test_cancel_without_a_running_batch_answers_409(server: ServerHandle, path: str) -> None:
    answer = call(server.port, "DELETE", path)
    assert answer.code == 409
    assert answer.data["status"] == "Not running a batch right now"


def test_while_a_batch_runs_everything_that_would_change_it_answers_409(server: ServerHandle) -> None:
    port = server.port
    start_held_batch(port)
    assert call(port, "GET", "/batch").data["status"] == "RUNNING"
    assert call(port, "GET", "/test").data["running"] is True
    ready = call(port, "GET", "/batch/ready").data
    assert ready["ready"] is False and any("running" in r for r in ready["reasons"])
    for method, path, body in (("POST", "/batch/recipe", recipe_data([{}])), ("GET", "/batch/start", None)):
        answer = call(port, method, path, body)
        assert answer.code == 409, path
        assert "already running" in answer.data["status"]
    upload = call(port, "POST", "/batch/file?name=x.blend", b"BLENDER-v304",
                  content_type="application/octet-stream")
    assert upload.code == 409
    assert call(port, "GET", "/batch/name").data["name"] == "server test batch"  # still the running one
    between_jobs = call(port, "DELETE", "/batch/jobs/current")  # the PRE_BATCH hook runs, no job yet
    assert between_jobs.code == 409 and "No render job is running" in between_jobs.data["status"]


def test_delete_batch_cancels_and_ends_the_batch_processes(server: ServerHandle) -> None:
    port = server.port
    start_held_batch(port)
    answer = call(port, "DELETE", "/batch")
    assert answer.code == 200
    assert answer.data["batch"] == "CANCELLED"
    poll = call(port, "GET", "/batch").data
    assert poll["status"] == "CANCELLED"
    assert [job["status"] for job in poll["jobs"]] == ["CANCELLED", "DISABLED", "CANCELLED"]
    assert not processes_with(SLEEP_HOOK)
    assert call(port, "DELETE", "/batch").code == 409  # nothing left to cancel
    # Another batch may run after a cancelled one.
    assert call(port, "GET", "/batch/start").code == 200


# ------------------------------------------------------------------ unknown routes, methods

@pytest.mark.parametrize("method, path", [("GET", "/nope"), ("GET", "/batch/"), ("POST", "/batch/recipe/x"),
                                          ("POST", "/queue/1/x"), ("POST", "/batch/pause/now")])
def test_unknown_routes_answer_404_in_json(server: ServerHandle, method: str, path: str) -> None:
    answer = call(server.port, method, path)
    assert answer.code == 404
    assert answer.headers["content-type"].startswith("application/json")
    assert path in answer.data["status"]


@pytest.mark.parametrize("method, path, allowed", [
    ("POST", "/test", "GET"), ("PUT", "/batch", "DELETE"), ("POST", "/batch", "GET"),
    ("PUT", "/batch/jobs/3", "DELETE"), ("GET", "/server", "DELETE"), ("GET", "/batch/recipe", "POST"),
    ("GET", "/batch/file", "POST"), ("GET", "/batch/jobs/current", None),
    ("GET", "/batch/jobs", "POST"), ("GET", "/batch/pause", "POST"), ("PUT", "/queue", "GET"),
    ("GET", "/queue/hold", "POST"), ("GET", "/queue/1", "PATCH"),
])
def test_wrong_methods_answer_405_in_json(server: ServerHandle, method: str, path: str,
                                          allowed: str | None) -> None:
    answer = call(server.port, method, path)
    if allowed is None:  # GET /batch/jobs/current is the job route with a bad id
        assert answer.code == 400
        return
    assert answer.code == 405
    assert allowed in answer.headers["allow"]
    assert method in answer.data["status"]


def test_head_of_a_route_has_no_body(server: ServerHandle) -> None:
    answer = call(server.port, "HEAD", "/test")
    assert answer.code == 200 and answer.raw == b""


def test_errors_before_the_app_are_json_too(server: ServerHandle) -> None:
    code, headers, body = split_response(raw_exchange(server.port, b"NONSENSE\r\n\r\n"))
    assert code == 400 and headers["content-type"] == "application/json"
    assert b'"status"' in body
    long_line = b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"
    code, headers, body = split_response(raw_exchange(server.port, long_line))
    assert code == 414 and b'"status"' in body


# ------------------------------------------------------- DELETE /server (docs/api.md, Stopping the server)

def test_delete_server_answers_then_stops_and_frees_the_port(server: ServerHandle) -> None:
    port = server.port
    answer = call(port, "DELETE", "/server")
    assert answer.code == 200 and answer.data["cancelled"] is False
    assert server.wait(30)
    assert not server.running
    assert port_is_free(port)


def test_delete_server_cancels_a_running_batch_first(server: ServerHandle, service: BatchService) -> None:
    start_held_batch(server.port)
    answer = call(server.port, "DELETE", "/server")
    assert answer.code == 200 and answer.data["cancelled"] is True
    assert server.wait(30)
    assert service.batch is not None and service.batch.status == "CANCELLED"
    assert not processes_with(SLEEP_HOOK)
    assert port_is_free(server.port)


def test_a_server_without_a_stop_hook_refuses_delete_server(custom_server: Callable[..., HttpServer]) -> None:
    plain = custom_server()
    answer = call(plain.port, "DELETE", "/server")
    assert answer.code == 501 and plain.running


def test_blender_bin_reported_is_the_recipes(server: ServerHandle) -> None:
    call(server.port, "POST", "/batch/recipe", recipe_data([{}], blender_bin=sys.executable))
    assert call(server.port, "GET", "/test").data["blender_bin"] == sys.executable


class BrokenService(BatchService):
    """A service whose state cannot be read: stands in for a bug behind a route."""

    @property
    def shown(self) -> None:
        raise RuntimeError("state unreadable")


def test_a_crash_behind_a_route_answers_500_in_json(tmp_path: Path) -> None:
    from renderplus.server import start_server

    handle = start_server(BrokenService(work_dir=tmp_path), port=0)
    try:
        answer = call(handle.port, "GET", "/batch")
        assert answer.code == 500
        assert answer.data == {"status": "Internal server error: RuntimeError"}
        assert call(handle.port, "GET", "/openapi.json").code == 200  # the server lives on
    finally:
        handle.stop()


def test_delete_one_job_by_id(server: ServerHandle) -> None:
    """Extension: a queued job is cancelled before it starts; the others wait their turn."""
    assert call(server.port, "DELETE", "/batch/jobs/0").code == 409  # nothing loaded
    start_held_batch(server.port)
    answer = call(server.port, "DELETE", "/batch/jobs/2")
    assert answer.code == 200 and answer.data["job"] == 2
    job = call(server.port, "GET", "/batch/jobs/2").data
    assert job["status"] == "CANCELLED" and job["messages"] == ["Cancelled before it started"]
    again = call(server.port, "DELETE", "/batch/jobs/2")
    assert again.code == 409 and "it is CANCELLED" in again.data["status"]
    assert call(server.port, "DELETE", "/batch/jobs/1").code == 409  # DISABLED
    assert call(server.port, "DELETE", "/batch/jobs/9").code == 400
    assert call(server.port, "DELETE", "/batch/jobs/x").code == 400
    assert call(server.port, "DELETE", "/batch").code == 200
