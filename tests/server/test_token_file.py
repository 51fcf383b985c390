"""The token file: only its user can read it, it is replaced when stale and removed on stop."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from renderplus.batch.service import BatchService
from renderplus.server import ServerHandle, start_server
from renderplus.server.tokenfile import (
    ServerRecord,
    read_record,
    remove_record,
    servers_folder,
    shown_path,
    token_path,
    write_record,
)

from .helpers import call, free_port


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)


@pytest.fixture
def handles() -> Iterator[list[ServerHandle]]:
    started: list[ServerHandle] = []
    yield started
    for handle in started:
        handle.stop()


def test_the_file_is_private_and_names_the_server(server: ServerHandle, own_config_folder: Path) -> None:
    path = token_path(server.port)
    assert server.token_file == path
    assert path.parent == own_config_folder / "renderplus" / "servers"
    assert mode(path.parent) == 0o700 and mode(path) == 0o600
    data = json.loads(path.read_text())
    assert data["token"] == server.token and data["port"] == server.port and data["pid"] == os.getpid()
    assert data["url"] == server.url
    assert [entry.name for entry in path.parent.iterdir()] == [path.name]  # no temporary left over


def test_a_folder_left_open_is_made_private_again(service: BatchService, handles: list[ServerHandle]) -> None:
    servers_folder().mkdir(parents=True)
    servers_folder().chmod(0o777)
    handles.append(start_server(service, port=0))
    assert mode(servers_folder()) == 0o700


def test_stop_removes_the_file(service: BatchService) -> None:
    handle = start_server(service, port=0)
    path = token_path(handle.port)
    assert path.exists()
    handle.stop()
    assert not path.exists()


def test_request_stop_removes_the_file_at_once(service: BatchService) -> None:
    handle = start_server(service, port=0)
    handle.request_stop()
    assert not token_path(handle.port).exists()
    assert handle.wait(30)


def test_delete_server_removes_the_file(service: BatchService) -> None:
    handle = start_server(service, port=0)
    assert call(handle.port, "DELETE", "/server", auth=False).code == 401
    assert token_path(handle.port).exists()
    assert call(handle.port, "DELETE", "/server").code == 200
    assert handle.wait(30)
    assert not token_path(handle.port).exists()


def test_a_stale_file_is_ignored_and_replaced(service: BatchService, handles: list[ServerHandle]) -> None:
    port = free_port()
    stale = ServerRecord(url=f"http://127.0.0.1:{port}", host="127.0.0.1", port=port, token="old",
                         pid=dead_pid(), started=0.0)
    write_record(stale)
    assert read_record(port) is None  # its process is gone: readers ignore it
    handle = start_server(service, port=port)
    handles.append(handle)
    record = read_record(port)
    assert record is not None and record.token == handle.token != "old"


def test_a_server_stopping_late_leaves_its_successors_file(service: BatchService) -> None:
    first = start_server(service, port=0)
    mine = read_record(first.port)
    assert mine is not None
    newer = ServerRecord(url=mine.url, host=mine.host, port=mine.port, token="newer", pid=os.getpid(),
                         started=mine.started + 1)
    write_record(newer)  # as a new server on the port would
    first.stop()
    assert read_record(first.port) == newer
    remove_record(newer)
    assert not token_path(first.port).exists()


@pytest.mark.parametrize("content", ["", "{", "[]", '{"token": ""}', '{"port": "x"}'])
def test_a_broken_file_is_no_record(content: str) -> None:
    port = free_port()
    servers_folder().mkdir(parents=True, exist_ok=True)
    token_path(port).write_text(content)
    assert read_record(port) is None


def test_a_server_that_cannot_write_the_file_still_serves(service: BatchService, own_config_folder: Path,
                                                          handles: list[ServerHandle]) -> None:
    (own_config_folder / "renderplus").mkdir()
    (own_config_folder / "renderplus" / "servers").write_text("not a folder")
    handle = start_server(service, port=0)
    handles.append(handle)
    assert handle.token_file is None and handle.token_file_problem
    answer = call(handle.port, "GET", "/batch/start", auth=False)
    assert answer.code == 401 and "was shown to the user who started the server" in answer.data["status"]


def test_no_file_when_told_not_to(service: BatchService, handles: list[ServerHandle]) -> None:
    handle = start_server(service, port=0, token_file=False)
    handles.append(handle)
    assert handle.token and handle.token_file is None and not token_path(handle.port).exists()


def test_the_path_is_shown_from_the_home_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert shown_path(token_path(7777)) == "~/.config/renderplus/servers/7777.json"
