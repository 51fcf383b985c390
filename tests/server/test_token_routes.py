"""The access rules (docs/api.md, Access) in a real server: which routes need the token, and who
finds it where."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from renderplus.batch.service import BatchService
from renderplus.server import ServerHandle, TokenRequiredError, start_server
from renderplus.server.app import create_app
from renderplus.server.guard import ROUTE_ACCESS, Access, AccessGuard, TokenScope
from renderplus.server.openapi import openapi_document
from renderplus.server.tokenfile import token_path

from .helpers import call, recipe_data, wait_for
from .test_security import ok_app, run_guard

OPEN_READS = [("GET", "/test"), ("GET", "/batch"), ("GET", "/batch/ready"), ("GET", "/batch/name"),
              ("GET", "/batch/jobs/0"), ("GET", "/openapi.json")]
CHANGES = [("POST", "/batch/recipe"), ("POST", "/batch/file"), ("GET", "/batch/start"),
           ("GET", "/batch/resume"), ("DELETE", "/batch"), ("DELETE", "/batch/jobs/current"),
           ("DELETE", "/batch/jobs/1"), ("DELETE", "/server")]


@pytest.fixture
def started(service: BatchService) -> Iterator[list[ServerHandle]]:
    handles: list[ServerHandle] = []
    yield handles
    for handle in handles:
        handle.stop()


def same_shape(path: str) -> str:
    """``/frames/<batch>/<job:int>`` and ``/frames/{batch}/{job}`` both as ``/frames/*/*``."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "*", path)


def test_every_route_of_the_app_says_who_may_call_it(service: BatchService) -> None:
    routes = {(route.method, same_shape(route.rule)) for route in create_app(service).routes}
    missing = routes - {(method, same_shape(path)) for method, path in ROUTE_ACCESS}
    assert not missing, f"add these routes to guard.ROUTE_ACCESS: {sorted(missing)}"


@pytest.mark.parametrize("method, path", OPEN_READS)
def test_the_spec_reads_stay_open_on_loopback(server: ServerHandle, method: str, path: str) -> None:
    assert call(server.port, method, path, auth=False).code != 401


def test_head_of_an_open_read_is_open_too(server: ServerHandle) -> None:
    assert call(server.port, "HEAD", "/test", auth=False).code == 200


@pytest.mark.parametrize("method, path", CHANGES)
def test_changing_routes_need_the_token_and_say_where_it_is(server: ServerHandle, method: str,
                                                             path: str) -> None:
    answer = call(server.port, method, path, b"{}", auth=False)
    assert answer.code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    status = answer.data["status"]
    assert f"{method} {path} needs this server's access token" in status
    assert f"renderplus/servers/{server.port}.json" in status
    assert "readable only by the user who started the server" in status
    assert "Authorization: Bearer TOKEN" in status
    assert server.token is not None and server.token not in status
    assert server.running


@pytest.mark.parametrize("method, path", CHANGES[:-1])  # DELETE /server: test_token_file.py
def test_with_the_token_changing_routes_are_reached(server: ServerHandle, method: str, path: str) -> None:
    answer = call(server.port, method, path, b"{}", headers={"Authorization": f"Bearer {server.token}"})
    assert answer.code not in (401, 403)


@pytest.mark.parametrize("path", ["/batches", "/frames/0/0/1", "/previews/0/0/1", "/frames/x",
                                  "/no-such-route"])
def test_routes_not_marked_as_open_reads_need_the_token(server: ServerHandle, path: str) -> None:
    assert call(server.port, "GET", path, auth=False).code == 401
    assert call(server.port, "GET", path).code not in (401, 403)  # with the token: reached


@pytest.mark.parametrize("token", [None, "given-token"])
def test_the_dashboard_page_needs_no_token(service: BatchService, started: list[ServerHandle],
                                           token: str | None) -> None:
    handle = start_server(service, port=0, token=token)
    started.append(handle)
    assert call(handle.port, "GET", "/", auth=False).code not in (401, 403)
    assert call(handle.port, "GET", "/dashboard/dashboard.js", auth=False).code not in (401, 403)
    assert call(handle.port, "GET", "/dashboard/../batches", auth=False).code == 401


@pytest.mark.parametrize("path", ["/batch/start?token={token}", "/batch/start?access_token={token}",
                                  "/batch/resume?token={token}"])
def test_the_token_is_never_taken_from_the_url(server: ServerHandle, path: str) -> None:
    answer = call(server.port, "GET", path.format(token=server.token), auth=False)
    assert answer.code == 401


def test_the_token_is_never_taken_from_a_cookie(server: ServerHandle) -> None:
    answer = call(server.port, "GET", "/batch/start", auth=False,
                  headers={"Cookie": f"token={server.token}; renderplus_token={server.token}"})
    assert answer.code == 401
    assert "set-cookie" not in answer.headers


def test_a_wrong_token_is_named_as_such(server: ServerHandle) -> None:
    answer = call(server.port, "GET", "/batch/start", headers={"Authorization": "Bearer guess"})
    assert answer.code == 401
    assert answer.data["status"].startswith("The access token sent is not this server's")


def test_every_server_makes_its_own_random_token(service: BatchService, started: list[ServerHandle]) -> None:
    started += [start_server(service, port=0), start_server(service, port=0)]
    first, second = (handle.token for handle in started)
    assert first and second and first != second and len(first) >= 32


def test_an_explicit_token_guards_the_reads_too(service: BatchService, started: list[ServerHandle]) -> None:
    handle = start_server(service, port=0, token="given-token")
    started.append(handle)
    answer = call(handle.port, "GET", "/batch", auth=False)
    assert answer.code == 401 and "on every request" in answer.data["status"]
    assert "--token or $RENDERPLUS_TOKEN" in answer.data["status"]
    assert call(handle.port, "GET", "/batch").code == 409  # the saved token: reached the route


def test_no_token_opens_loopback_on_purpose(service: BatchService, started: list[ServerHandle],
                                            tmp_path: Path) -> None:
    handle = start_server(service, port=0, no_token=True)
    started.append(handle)
    assert handle.token is None and handle.token_file is None
    assert not token_path(handle.port).exists()
    answer = call(handle.port, "POST", "/batch/recipe", recipe_data([{}]), auth=False)
    assert answer.code == 200
    assert handle.dashboard_url == f"{handle.url}/" and "Authorization" not in handle.curl_example


def test_no_token_and_a_token_contradict(service: BatchService) -> None:
    with pytest.raises(ValueError, match="not two of them"):
        start_server(service, port=0, token="abc", no_token=True)
    with pytest.raises(ValueError, match="not two of them"):   # a handed-over server's own one
        start_server(service, port=0, token="abc", own_token="def")


@pytest.mark.parametrize("no_token", [False, True])
def test_only_a_given_token_may_listen_beyond_loopback(service: BatchService, no_token: bool) -> None:
    with pytest.raises(TokenRequiredError):
        start_server(service, host="0.0.0.0", port=0, no_token=no_token)


def test_a_client_off_loopback_needs_the_token_even_for_reads() -> None:
    guard = AccessGuard(ok_app, port=7777, bound_host="127.0.0.1", token="tok", scope=TokenScope.NOT_READS)
    assert run_guard(guard, REQUEST_METHOD="GET", PATH_INFO="/batch", REMOTE_ADDR="127.0.0.1")[0] == "200 OK"
    assert run_guard(guard, REQUEST_METHOD="GET", PATH_INFO="/batch", REMOTE_ADDR="192.0.2.5")[0] \
        .startswith("401")
    open_guard = AccessGuard(ok_app, port=7777, bound_host="127.0.0.1", token=None)
    assert run_guard(open_guard, REQUEST_METHOD="GET", PATH_INFO="/batch", REMOTE_ADDR="192.0.2.5")[0] \
        .startswith("403")


def test_dashboard_url_and_curl_line_carry_the_token(server: ServerHandle) -> None:
    assert server.dashboard_url == f"http://127.0.0.1:{server.port}/#token={server.token}"
    assert server.curl_example == (f'curl -H "Authorization: Bearer {server.token}" '
                                   f"http://127.0.0.1:{server.port}/batch/start")


def test_a_hook_submitted_without_the_token_never_runs(server: ServerHandle, tmp_path: Path) -> None:
    marker = tmp_path / "hook-ran"
    recipe = recipe_data([{"enabled": False}], hooks={"PRE_BATCH": [{"cmd": f"touch {marker}"}]})
    assert call(server.port, "POST", "/batch/recipe", recipe, auth=False).code == 401
    assert call(server.port, "GET", "/batch", auth=False).code == 409  # nothing was loaded
    assert call(server.port, "POST", "/batch/recipe", recipe).code == 200  # its user loads it
    assert call(server.port, "GET", "/batch/start", auth=False).code == 401
    assert call(server.port, "GET", "/batch").data["status"] == "WAITING"  # refused: nothing runs
    assert not marker.exists()
    assert call(server.port, "GET", "/batch/start").code == 200  # the same hook, started by its user
    wait_for(marker.exists, timeout=30)


def test_the_openapi_document_says_which_routes_need_the_token() -> None:
    document = openapi_document()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            access = ROUTE_ACCESS.get((method.upper(), path), Access.CHANGE)
            optional = {} in operation["security"]
            assert optional == (access in (Access.READ, Access.PUBLIC)), (method, path)
            assert ({"bearer": []} in operation["security"]) == (access is not Access.PUBLIC)
