"""A real server on a free port (port 0) around a real BatchService, for every API test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import RunOptions
from renderplus.batch.service import BatchService
from renderplus.server import ServerHandle, start_server
from renderplus.server.app import create_app
from renderplus.server.guard import AccessGuard, TokenScope
from renderplus.server.httpd import HttpServer
from tests.procs import processes_with

from .helpers import SLEEP_HOOK, ServerProcess, wait_for
from .wsgi_client import WsgiClient


@pytest.fixture(autouse=True)
def own_config_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Servers save their token files in a folder of the test's own, not the user's ~/.config
    (servers started as subprocesses inherit it, and so do the CLI clients)."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    return folder


@pytest.fixture
def service(tmp_path: Path) -> Iterator[BatchService]:
    svc = BatchService(options=RunOptions(kill_grace=2.0), work_dir=tmp_path / "work")
    yield svc
    svc.shutdown(timeout=15)
    wait_for(lambda: not processes_with(SLEEP_HOOK), timeout=15)


@pytest.fixture
def server(service: BatchService) -> Iterator[ServerHandle]:
    handle = start_server(service, port=0)
    yield handle
    handle.stop()


@pytest.fixture
def app_factory(service: BatchService) -> Callable[..., WsgiClient]:
    """``app_factory(**create_app options)``: the app around ``service``, called in-process."""
    def make(**app_options: Any) -> WsgiClient:
        return WsgiClient(create_app(service, **app_options))

    return make


@pytest.fixture
def app_client(app_factory: Callable[..., WsgiClient]) -> WsgiClient:
    """The app around ``service`` with the default options, called in-process (no socket)."""
    return app_factory()


@pytest.fixture
def guarded(service: BatchService) -> Callable[..., WsgiClient]:
    """``guarded(token, scope, remote=..., host=...)``: the app behind the access guard as a
    server on 127.0.0.1:7777 applies it, called in-process from address ``remote``."""
    def make(token: str | None, scope: TokenScope = TokenScope.EVERY_REQUEST, *,
             remote: str = "127.0.0.1", host: str | None = "127.0.0.1") -> WsgiClient:
        guard = AccessGuard(create_app(service), port=7777, bound_host="127.0.0.1", token=token, scope=scope)
        return WsgiClient(guard, remote=remote, host=host, port=7777)

    return make


@pytest.fixture
def custom_server(service: BatchService) -> Iterator[Callable[..., HttpServer]]:
    """``custom_server(max_recipe=..., max_upload=..., token=...)``: a server with other limits."""
    started: list[HttpServer] = []

    def make(token: str | None = None, host: str = "127.0.0.1", **app_options: Any) -> HttpServer:
        handle = HttpServer(create_app(service, **app_options), token=token)
        started.append(handle)
        return handle.start(host, 0)

    yield make
    for handle in started:
        handle.stop()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """``serve(*flags)``: ``python -m renderplus.server --serve`` on a free port; ended afterwards."""
    started: list[ServerProcess] = []

    def make(*args: str, **kwargs: Any) -> ServerProcess:
        kwargs.setdefault("work_dir", tmp_path / "server-work")
        process = ServerProcess(*args, **kwargs)
        started.append(process)
        return process

    yield make
    for process in started:
        process.close()
    wait_for(lambda: not processes_with(SLEEP_HOOK), timeout=15)
