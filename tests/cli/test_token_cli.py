"""The access rules (docs/api.md, Access) from the command line: the server's own token, found by
its user's client flags."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.cli import build_parser
from renderplus.cli.client import client_token
from renderplus.server.tokenfile import new_record, read_record, remove_record, token_path, write_record
from tests.procs import processes_with
from tests.server.helpers import (
    SLEEP_HOOK,
    ServerProcess,
    call,
    cli,
    free_port,
    held_recipe,
    recipe_data,
    wait_for,
)

Serve = Callable[..., ServerProcess]


def test_the_start_shows_the_dashboard_url_and_a_curl_line(serve: Serve) -> None:
    server = serve()
    saved = json.loads(token_path(server.port).read_text())
    assert server.client("--stop").returncode == 0
    code, out = server.finish()
    token = saved["token"]
    assert code == 0
    assert f"Dashboard: http://127.0.0.1:{server.port}/#token={token}" in out
    assert f'curl -H "Authorization: Bearer {token}" http://127.0.0.1:{server.port}/batch/start' in out
    assert f"renderplus/servers/{server.port}.json" in out
    assert not token_path(server.port).exists()


def test_the_same_users_cancel_and_stop_need_no_extra_flags(serve: Serve) -> None:
    server = serve()
    assert call(server.port, "POST", "/batch/recipe", held_recipe(), auth=False).code == 401
    assert call(server.port, "POST", "/batch/recipe", held_recipe()).code == 200
    assert call(server.port, "GET", "/batch/start").code == 200
    wait_for(lambda: processes_with(SLEEP_HOOK))
    cancel = server.client("--cancel")
    assert cancel.returncode == 0, cancel.stderr
    assert "cancel" in cancel.stdout.lower()
    stop = server.client("--stop")
    assert stop.returncode == 0, stop.stderr
    assert server.finish()[0] == 0
    assert not token_path(server.port).exists()


def test_poll_and_cancel_job_find_the_token_of_a_server_given_one(serve: Serve, tmp_path: Path) -> None:
    server = serve(env={"RENDERPLUS_TOKEN": "tok-from-env"}, token="tok-from-env")
    assert call(server.port, "GET", "/batch", auth=False).code == 401  # a given token guards reads too
    recipe = recipe_data([{"enabled": False}])
    assert call(server.port, "POST", "/batch/recipe", recipe).code == 200  # the saved token
    assert call(server.port, "GET", "/batch/start").code == 200
    without_env = {"RENDERPLUS_TOKEN": ""}
    poll = server.client("--poll", env=without_env)
    assert poll.returncode == 0, poll.stderr
    elsewhere = {**without_env, "XDG_CONFIG_HOME": str(tmp_path / "another-user")}
    refused = server.client("--poll", env=elsewhere)
    assert refused.returncode == 1
    assert f"renderplus/servers/{server.port}.json" in refused.stderr
    job = server.client("--cancel-job", "0", env=without_env)
    assert job.returncode == 1 and "401" not in job.stderr and "token" not in job.stderr  # reached the route
    assert server.client("--stop", env=without_env).returncode == 0


def test_an_explicit_token_still_wins_over_the_saved_one(serve: Serve) -> None:
    server = serve()
    wrong = server.client("--stop", "--token", "not-the-token")
    assert wrong.returncode == 1 and "not this server's" in wrong.stderr
    assert server.process.poll() is None


def test_no_token_opens_loopback_with_a_warning(serve: Serve) -> None:
    server = serve("--no-token")
    assert not token_path(server.port).exists()
    assert call(server.port, "POST", "/batch/recipe", recipe_data([{}]), auth=False).code == 200
    assert server.client("--stop").returncode == 0
    code, out = server.finish()
    assert code == 0
    assert "warning: --no-token: every user and program on this machine can submit recipes" in out
    assert not re.search(r"#token=|Bearer", out)


def test_ctrl_c_removes_the_token_file(serve: Serve) -> None:
    server = serve()
    assert token_path(server.port).exists()
    server.close()  # SIGINT, as Ctrl+C
    assert server.process.returncode == 0
    assert not token_path(server.port).exists()


@pytest.mark.parametrize("args, message", [
    (["--serve", "--no-token", "--token", "abc"], "--no-token and --token contradict"),
    (["--serve", "--no-token", "--host", "0.0.0.0"], "needs an access token"),
    (["--poll", "--no-token"], "--no-token is a --serve flag"),
    (["--recipe", "r.json", "--no-token"], "--no-token is a --serve flag"),
])
def test_no_token_where_it_means_nothing_is_a_usage_error(args: list[str], message: str) -> None:
    result = cli(*args, "--port", str(free_port()), timeout=60)
    assert result.returncode == 2 and message in result.stderr


def test_the_saved_token_is_never_sent_to_another_machine() -> None:
    port = free_port()
    record = new_record(f"http://127.0.0.1:{port}", "127.0.0.1", port, "saved-token")
    write_record(record)
    try:
        parser = build_parser()
        assert read_record(port) == record
        local = parser.parse_args(["--poll", "--port", str(port)])
        assert client_token(local, "127.0.0.1") == "saved-token"
        assert client_token(local, "localhost") == "saved-token"
        remote = parser.parse_args(["--poll", "--port", str(port), "--host", "192.0.2.1"])
        assert client_token(remote, "192.0.2.1") is None
        given = parser.parse_args(["--poll", "--port", str(port), "--token", "mine"])
        assert client_token(given, "127.0.0.1") == "mine"
    finally:
        remove_record(record)
