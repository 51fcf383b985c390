"""The routes called in-process (WSGI, no socket): status codes, JSON bodies, and the token rules
of the guard in front of the app, as a server with its own token applies them.

The same app the socket tests serve through ``httpd`` (``create_app`` around a real
``BatchService``); a batch "runs" on a PRE_BATCH hook (a shell ``sleep``), so no Blender.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.service import BatchService
from renderplus.server.app import ROUTES
from renderplus.server.guard import TokenScope
from renderplus.server.version import API_VERSION, VERSION

from .helpers import held_recipe, recipe_data, wait_for
from .wsgi_client import WsgiClient

TOKEN = "in-process-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def start_held(client: WsgiClient) -> None:
    """Load and start a batch held RUNNING by its PRE_BATCH hook."""
    assert client.call("POST", "/batch/recipe", held_recipe()).code == 200
    assert client.call("GET", "/batch/start").code == 200
    wait_for(lambda: client.call("GET", "/batch").data["status"] == "RUNNING", timeout=10)


# ------------------------------------------------------------------ before any recipe

def test_test_route_describes_the_server(app_client: WsgiClient, service: BatchService) -> None:
    answer = app_client.call("GET", "/test")
    assert answer.code == 200 and answer.headers["content-type"] == "application/json"
    data = answer.data
    assert data["version"] == VERSION and data["api_version"] == API_VERSION
    assert data["running"] is False and data["batch"] is None
    assert data["blender_bin"] == service.blender_bin


@pytest.mark.parametrize("path", ["/batch", "/batch/name", "/batch/jobs/0"])
def test_polls_answer_409_before_any_recipe(app_client: WsgiClient, path: str) -> None:
    answer = app_client.call("GET", path)
    assert answer.code == 409 and "No batch has been run" in answer.data["status"]


def test_ready_names_every_reason(app_client: WsgiClient, tmp_path: Path) -> None:
    data = app_client.call("GET", "/batch/ready").data
    assert data["ready"] is False and any("No recipe" in reason for reason in data["reasons"])
    missing = str(tmp_path / "no-blender")
    app_client.call("POST", "/batch/recipe", recipe_data([{}], blender_bin=missing))
    data = app_client.call("GET", "/batch/ready").data
    assert data["reasons"] == [f"Blender binary not found: {missing}"]
    start = app_client.call("GET", "/batch/start")
    assert start.code == 409 and start.data["status"] == f"Cannot start: Blender binary not found: {missing}"


@pytest.mark.parametrize("method, path", [("GET", "/batch/start"), ("DELETE", "/batch"),
                                          ("DELETE", "/batch/jobs/current")])
def test_what_needs_a_batch_answers_409_without_one(app_client: WsgiClient, method: str, path: str) -> None:
    answer = app_client.call(method, path)
    assert answer.code == 409 and answer.data["status"]


# ------------------------------------------------------------------ POST /batch/recipe

def test_a_loaded_recipe_polls_as_a_waiting_batch(app_client: WsgiClient) -> None:
    answer = app_client.call("POST", "/batch/recipe", recipe_data([{"name": "a"}, {"enabled": False}]))
    assert answer.code == 200 and answer.data["status"] == "Recipe loaded: 2 jobs, 1 enabled"
    poll = app_client.call("GET", "/batch")
    assert poll.code == 200 and poll.headers["cache-control"] == "no-cache"
    assert poll.data["status"] == "WAITING"
    assert [job["status"] for job in poll.data["jobs"]] == ["QUEUED", "DISABLED"]
    assert app_client.call("GET", "/batch/name").data == {"name": "server test batch"}
    assert app_client.call("GET", "/batch/jobs/1").data["status"] == "DISABLED"


def test_the_poll_answers_304_until_the_batch_changes(app_client: WsgiClient) -> None:
    app_client.call("POST", "/batch/recipe", recipe_data([{}]))
    etag = app_client.call("GET", "/batch").headers["etag"]
    same = app_client.call("GET", "/batch", headers={"If-None-Match": etag})
    assert same.code == 304 and same.raw == b""
    app_client.call("POST", "/batch/recipe", recipe_data([{}, {}]))
    assert app_client.call("GET", "/batch", headers={"If-None-Match": etag}).code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_recipe_of_another_type_answers_406(app_client: WsgiClient, content_type: str | None) -> None:
    answer = app_client.call("POST", "/batch/recipe", b"{}", content_type=content_type)
    assert answer.code == 406 and "application/json" in answer.data["status"]


@pytest.mark.parametrize("body", [b"[]", b"not json", b"\xff\xfe"])
def test_a_recipe_that_is_not_a_json_object_answers_400(app_client: WsgiClient, body: bytes) -> None:
    answer = app_client.call("POST", "/batch/recipe", body)
    assert answer.code == 400 and answer.data["status"]


def test_a_recipe_without_a_length_answers_411(app_client: WsgiClient) -> None:
    answer = app_client.call("POST", "/batch/recipe", None, headers={"Content-Type": "application/json"})
    assert answer.code == 411 and "Content-Length" in answer.data["status"]
    chunked = app_client.call("POST", "/batch/recipe", b"{}", headers={"Transfer-Encoding": "chunked"})
    assert chunked.code == 411 and "chunked" in chunked.data["status"]


def test_a_recipe_over_the_limit_answers_413_with_the_limit(app_factory: Callable[..., WsgiClient]) -> None:
    client = app_factory(max_recipe=100)
    answer = client.call("POST", "/batch/recipe", recipe_data([{}] * 5))
    assert answer.code == 413 and answer.data["limit"] == 100


# ------------------------------------------------------------------ job ids

@pytest.mark.parametrize("job_id", ["abc", "-1", "1.5", "0x1", "99999999999", "3"])
def test_bad_or_unknown_job_ids_answer_400(app_client: WsgiClient, job_id: str) -> None:
    app_client.call("POST", "/batch/recipe", recipe_data([{}, {}, {}]))
    answer = app_client.call("GET", f"/batch/jobs/{job_id}")
    assert answer.code == 400 and answer.data["status"]
    if job_id == "3":
        assert "ids 0-2" in answer.data["status"]


def test_a_missing_job_id_answers_400(app_client: WsgiClient) -> None:
    app_client.call("POST", "/batch/recipe", recipe_data([{}]))
    answer = app_client.call("GET", "/batch/jobs/")
    assert answer.code == 400 and answer.data["status"].startswith("Missing job index")


# ------------------------------------------------------------------ a running batch

def test_while_a_batch_runs_changes_answer_409_and_delete_cancels_it(app_client: WsgiClient) -> None:
    start_held(app_client)
    assert app_client.call("GET", "/test").data["running"] is True
    assert app_client.call("GET", "/batch/start").code == 409
    reload = app_client.call("POST", "/batch/recipe", recipe_data([{}]))
    assert reload.code == 409 and "already running" in reload.data["status"]
    hooks = app_client.call("DELETE", "/batch/jobs/current")
    assert hooks.code == 409 and "the batch runs its hooks" in hooks.data["status"]
    cancel = app_client.call("DELETE", "/batch")
    assert cancel.code == 200 and cancel.data == {"status": "Batch cancelled", "batch": "CANCELLED"}
    assert [job["status"] for job in app_client.call("GET", "/batch").data["jobs"]] == [
        "CANCELLED", "DISABLED", "CANCELLED"]
    assert app_client.call("DELETE", "/batch").code == 409


def test_cancelling_one_job_by_id(app_client: WsgiClient) -> None:
    start_held(app_client)
    queued = app_client.call("DELETE", "/batch/jobs/2")
    assert queued.code == 200 and queued.data["job"] == 2
    disabled = app_client.call("DELETE", "/batch/jobs/1")
    assert disabled.code == 409 and "DISABLED" in disabled.data["status"]
    assert app_client.call("DELETE", "/batch/jobs/7").code == 400
    assert app_client.call("DELETE", "/batch/jobs/x").code == 400
    app_client.call("DELETE", "/batch")
    wait_for(lambda: not app_client.call("GET", "/test").data["running"], timeout=10)


# ------------------------------------------------------------------ the server's own routes

def test_delete_server_calls_the_stop_hook_or_answers_501(app_factory: Callable[..., WsgiClient]) -> None:
    assert app_factory().call("DELETE", "/server").code == 501
    stopped: list[bool] = []
    answer = app_factory(on_stop=lambda: stopped.append(True)).call("DELETE", "/server")
    assert answer.code == 200 and answer.data == {"status": "Server stopping", "cancelled": False}
    assert stopped == [True]


def test_history_checks_its_query(app_client: WsgiClient) -> None:
    assert app_client.call("GET", "/batches?limit=0").code == 400
    assert app_client.call("GET", "/batches?offset=-1").code == 400
    answer = app_client.call("GET", "/batches?limit=5")
    assert answer.code == 200 and answer.data == {"batches": [], "limit": 5, "offset": 0}


def test_the_openapi_document_is_served(app_client: WsgiClient) -> None:
    data = app_client.call("GET", "/openapi.json").data
    assert data["openapi"].startswith("3.")
    assert "/batch/recipe" in data["paths"]


def test_unknown_routes_and_wrong_methods_answer_in_json(app_client: WsgiClient) -> None:
    missing = app_client.call("GET", "/nope")
    assert missing.code == 404 and missing.data["status"].startswith("No such route: GET /nope")
    wrong = app_client.call("PUT", "/batch")
    assert wrong.code == 405 and "DELETE" in wrong.headers["allow"] and "PUT" in wrong.data["status"]


@pytest.mark.parametrize("method, path, name", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_route_answers_in_json(app_client: WsgiClient, method: str, path: str,
                                     name: str) -> None:
    concrete = path.replace("<job_id:re:.*>", "0")
    answer = app_client.call(method, concrete, b"{}" if method == "POST" else None)
    assert answer.code not in (404, 405, 500), (name, answer.code, answer.raw[:200])
    assert answer.headers["content-type"] == "application/json"
    assert answer.data


# ------------------------------------------------------------------ the guard in front

def test_with_its_own_token_reads_stay_open_and_changes_need_it(guarded: Callable[..., WsgiClient]) -> None:
    client = guarded(TOKEN, TokenScope.NOT_READS)
    assert client.call("GET", "/test").code == 200
    refused = client.call("GET", "/batch/start")
    assert refused.code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    assert "GET /batch/start needs this server's access token" in refused.data["status"]
    assert client.call("GET", "/batch/start", headers=BEARER).code == 409  # past the guard: no recipe
    assert client.call("GET", "/batch/start", headers={"X-RenderPlus-Token": TOKEN}).code == 409
    wrong = client.call("GET", "/batch/start", headers={"Authorization": "Bearer nope"})
    assert wrong.code == 401 and "not this server's" in wrong.data["status"]
    assert client.call("GET", "/batches").code == 401  # a private read


def test_an_explicit_token_guards_every_request(guarded: Callable[..., WsgiClient]) -> None:
    client = guarded(TOKEN, TokenScope.EVERY_REQUEST)
    assert client.call("GET", "/test").code == 401
    assert client.call("GET", "/test", headers=BEARER).code == 200
    assert client.call("GET", "/").code != 401  # the dashboard page is public


def test_without_a_token_loopback_is_open_and_other_machines_are_refused(
        guarded: Callable[..., WsgiClient]) -> None:
    assert guarded(None).call("GET", "/batch/start").code == 409  # open: no recipe
    remote = guarded(None, remote="192.0.2.9")
    answer = remote.call("GET", "/test")
    assert answer.code == 403 and "Only this machine" in answer.data["status"]
    assert guarded(TOKEN, TokenScope.NOT_READS, remote="192.0.2.9").call("GET", "/test").code == 401


def test_another_host_or_a_cross_site_request_is_refused(guarded: Callable[..., WsgiClient]) -> None:
    rebinding = guarded(None, host="rebind.example")
    assert rebinding.call("GET", "/test").code == 403
    client = guarded(None)
    assert client.call("GET", "/test", headers={"Sec-Fetch-Site": "cross-site"}).code == 403
    assert client.call("GET", "/test", headers={"Origin": "http://evil.example"}).code == 403
    assert client.call("GET", "/test", headers={"Origin": "http://127.0.0.1:7777"}).code == 200
    assert guarded(None, host=None).call("GET", "/test").code == 200  # HTTP/1.0 tools send no Host


def test_a_hook_loaded_without_the_token_never_runs(guarded: Callable[..., WsgiClient],
                                                    tmp_path: Path) -> None:
    client = guarded(TOKEN, TokenScope.NOT_READS)
    marker = tmp_path / "hook-ran"
    recipe = recipe_data([{"enabled": False}], hooks={"PRE_BATCH": [{"cmd": f"touch {marker}"}]})
    assert client.call("POST", "/batch/recipe", recipe).code == 401
    assert client.call("GET", "/batch").code == 409  # nothing was loaded
    assert not marker.exists()
