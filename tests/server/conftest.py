"""A real server on a free port (port 0), or the app called in-process, around the real
BatchService of the shared ``service`` fixture (tests/conftest.py), for every API test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from renderplus.batch.service import BatchService
from renderplus.server import ServerHandle, start_server
from renderplus.server.app import create_app
from renderplus.server.guard import AccessGuard, TokenScope
from renderplus.server.httpd import HttpServer

from .wsgi_client import WsgiClient


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

