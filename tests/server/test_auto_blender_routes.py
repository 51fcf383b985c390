"""``blender_bin: "auto"`` through the routes, in-process: ``/test`` and ``/batch/ready`` name the
Blender chosen for the file, and a file no Blender found can open refuses the start with the
sentence that names it. Fake Blenders (shell scripts answering ``--version``); nothing renders."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from renderplus.batch import blenders as blenders_module
from renderplus.batch.blenders import InstallRoots
from renderplus.batch.options import RunOptions
from renderplus.batch.service import BatchService
from renderplus.server.app import create_app

from .helpers import recipe_data
from .wsgi_client import WsgiClient


@pytest.fixture
def listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The one Blender there is: 3.4.1, listed as a --blender flag would list it."""
    roots = InstallRoots(home=str(tmp_path / "nohome"), system=str(tmp_path / "nosystem"))
    monkeypatch.setattr(blenders_module, "machine_places", lambda env: (roots, ""))
    monkeypatch.delenv(blenders_module.BLENDERS_ENV, raising=False)
    path = tmp_path / "b34" / "blender"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\necho 'Blender 3.4.1'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def client(tmp_path: Path, listed: str) -> Iterator[WsgiClient]:
    service = BatchService(RunOptions(blender_bin=listed, blenders=(listed,)), work_dir=tmp_path / "work",
                           store=None)
    yield WsgiClient(create_app(service))
    service.shutdown()


def blend(tmp_path: Path, header: bytes) -> str:
    path = tmp_path / "shot.blend"
    path.write_bytes(header + b"REND" + bytes(64))
    return str(path)


def test_test_and_ready_name_the_blender_auto_chose(client: WsgiClient, tmp_path: Path, listed: str) -> None:
    file = blend(tmp_path, b"BLENDER-v304")
    recipe = recipe_data([{"blend_file": file}], blender_bin="auto")
    assert client.call("POST", "/batch/recipe", recipe).code == 200
    test = client.call("GET", "/test").data
    assert test["blender_bin"] == listed and test["blender_found"] is True
    ready = client.call("GET", "/batch/ready").data
    assert ready["ready"] is True and ready["blender_bin"] == listed
    start = client.call("GET", "/batch/start")
    assert start.code == 200 and start.data["blender_bin"] == listed


def test_a_file_newer_than_every_blender_refuses_the_start(client: WsgiClient, tmp_path: Path) -> None:
    file = blend(tmp_path, b"BLENDER17-01v0502")
    answer = client.call("POST", "/batch/recipe", recipe_data([{"blend_file": file}], blender_bin="auto"))
    sentence = (f"{file} was saved by Blender 5.2, newer than every Blender found (3.4.1), and Blender "
                "cannot open files of a newer major version: install Blender 5.2 or newer, or name it "
                "with --blender PATH")
    assert sentence in answer.data["warnings"]
    assert client.call("GET", "/batch/ready").data["reasons"] == [sentence]
    assert client.call("GET", "/test").data["blender_found"] is False
    start = client.call("GET", "/batch/start")
    assert start.code == 409 and start.data["status"] == f"Cannot start: {sentence}"
