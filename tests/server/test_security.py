"""Who may talk to the server: Host header (DNS rebinding), cross-site browsers, access token."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from renderplus.batch.service import BatchService
from renderplus.server import ServerHandle, TokenRequiredError, start_server
from renderplus.server.guard import AccessGuard, check_token, split_host
from renderplus.server.httpd import HttpServer

from .helpers import call, raw_exchange, split_response

TOKEN = "s3cret-token-for-tests"


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "LOCALHOST:{port}",
                                  "localhost"])
def test_own_host_names_are_accepted(server: ServerHandle, host: str) -> None:
    answer = call(server.port, "GET", "/test", headers={"Host": host.format(port=server.port)})
    assert answer.code == 200


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1:{other}", "localhost.evil.example:{port}",
                                  "127.0.0.1.nip.io:{port}", "[::1]x", "a:b:c", "127.0.0.1:{port}0", ""])
def test_foreign_host_headers_are_refused_with_403(server: ServerHandle, host: str) -> None:
    value = host.format(port=server.port, other=server.port + 1 if server.port < 65535 else 1025)
    answer = call(server.port, "GET", "/batch/start", headers={"Host": value})
    assert answer.code == 403
    assert answer.headers["content-type"] == "application/json"
    assert "not this server" in answer.data["status"]


def test_a_request_without_host_header_passes(server: ServerHandle) -> None:
    code, _, body = split_response(raw_exchange(server.port, b"GET /test HTTP/1.0\r\n\r\n"))
    assert code == 200 and b"Render+" in body


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://localhost:1"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
])
def test_cross_site_browser_requests_are_refused(server: ServerHandle, headers: dict[str, str]) -> None:
    answer = call(server.port, "GET", "/batch/start", headers=headers)
    assert answer.code == 403


@pytest.mark.parametrize("headers", [
    {"Origin": "http://127.0.0.1:{port}"}, {"Origin": "http://localhost:{port}"},
    {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"},
])
def test_same_origin_browser_requests_pass(server: ServerHandle, headers: dict[str, str]) -> None:
    sent = {key: value.format(port=server.port) for key, value in headers.items()}
    assert call(server.port, "GET", "/test", headers=sent).code == 200


# ------------------------------------------------------------------ the token

@pytest.fixture
def token_server(custom_server: Callable[..., HttpServer]) -> HttpServer:
    return custom_server(token=TOKEN)


@pytest.mark.parametrize("method, path", [("GET", "/test"), ("GET", "/batch"), ("POST", "/batch/recipe"),
                                          ("DELETE", "/server"), ("GET", "/no-such-route"),
                                          ("GET", "/openapi.json")])
def test_without_the_token_every_request_gets_401(token_server: HttpServer, method: str, path: str) -> None:
    answer = call(token_server.port, method, path, b"{}")
    assert answer.code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert "token" in answer.data["status"]
    assert token_server.running


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
    {"X-RenderPlus-Token": TOKEN[:-1]}, {"X-RenderPlus-Token": TOKEN + "x"}, {"Authorization": TOKEN},
])
def test_a_wrong_token_gets_401(token_server: HttpServer, headers: dict[str, str]) -> None:
    assert call(token_server.port, "GET", "/test", headers=headers).code == 401


@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {TOKEN}"},
                                     {"authorization": f"bearer {TOKEN}"}, {"X-RenderPlus-Token": TOKEN}])
def test_the_right_token_opens_every_route(token_server: HttpServer, headers: dict[str, str]) -> None:
    assert call(token_server.port, "GET", "/test", headers=headers).code == 200
    assert call(token_server.port, "GET", "/batch", headers=headers).code == 409  # reached the route
    assert call(token_server.port, "GET", "/nope", headers=headers).code == 404


def test_the_host_rule_applies_before_the_token(token_server: HttpServer) -> None:
    answer = call(token_server.port, "GET", "/test",
                  headers={"Host": "evil.example", "Authorization": f"Bearer {TOKEN}"})
    assert answer.code == 403


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_listening_beyond_loopback_needs_a_token(service: BatchService, host: str) -> None:
    with pytest.raises(TokenRequiredError):
        start_server(service, host=host, port=0)


def test_another_loopback_address_is_accepted_as_bound(service: BatchService) -> None:
    handle = start_server(service, host="127.0.0.2", port=0, token=TOKEN)
    try:
        answer = call(handle.port, "GET", "/test", host="127.0.0.2",
                      headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.code == 200
    finally:
        handle.stop()


# ------------------------------------------------------------------ the guard's rules, off loopback

def run_guard(guard: AccessGuard, **environ: Any) -> tuple[str, bytes]:
    seen: list[str] = []

    def start_response(status: str, headers: Iterable[tuple[str, str]]) -> None:
        seen.append(status)

    body = b"".join(guard({"REQUEST_METHOD": "GET", "PATH_INFO": "/test", **environ}, start_response))
    return seen[0], body


def ok_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [])
    return [b"ok"]


def test_a_server_bound_to_all_addresses_accepts_its_own_addresses_only() -> None:
    guard = AccessGuard(ok_app, port=7777, bound_host="0.0.0.0", token=TOKEN)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    # The address the client connected to is this server, whatever the interface.
    assert run_guard(guard, HTTP_HOST="192.0.2.10:7777", **{"renderplus.local_addr": "192.0.2.10"},
                     **auth)[0] == "200 OK"
    assert run_guard(guard, HTTP_HOST="192.0.2.10:7777", **{"renderplus.local_addr": "::ffff:192.0.2.10"},
                     **auth)[0] == "200 OK"
    assert run_guard(guard, HTTP_HOST="192.0.2.99:7777", **{"renderplus.local_addr": "192.0.2.10"},
                     **auth)[0].startswith("403")
    assert run_guard(guard, HTTP_HOST="rebind.example:7777", **{"renderplus.local_addr": "192.0.2.10"},
                     **auth)[0].startswith("403")
    assert run_guard(guard, HTTP_HOST="192.0.2.10:7777", **{"renderplus.local_addr": "192.0.2.10"})[0] \
        .startswith("401")


def test_a_server_bound_to_one_address_accepts_that_address() -> None:
    guard = AccessGuard(ok_app, port=8000, bound_host="192.0.2.7", token=TOKEN)
    auth = {"HTTP_X_RENDERPLUS_TOKEN": TOKEN}
    assert run_guard(guard, HTTP_HOST="192.0.2.7:8000", **auth)[0] == "200 OK"
    assert run_guard(guard, HTTP_HOST="192.0.2.7:8001", **auth)[0].startswith("403")


@pytest.mark.parametrize("value, parsed", [
    ("localhost:7777", ("localhost", 7777)), ("[::1]:80", ("::1", 80)),
    ("Example.COM.", ("example.com", None)),
    ("[::1]", ("::1", None)), ("host:", None), ("host:99999999", None), ("::1", None), ("[::1", None),
])
def test_split_host(value: str, parsed: tuple[str, int | None] | None) -> None:
    assert split_host(value) == parsed


# ------------------------------------------------------------------ unsendable and non-ASCII tokens

@pytest.mark.parametrize("token", ["   ", "\t", " \n ", " padded", "padded\t", "two\nlines", "bell\x07"])
def test_a_token_no_client_could_send_is_refused_at_start(service: BatchService, token: str) -> None:
    with pytest.raises(ValueError, match="access token"):
        check_token(token)
    with pytest.raises(ValueError, match="access token"):
        start_server(service, port=0, token=token)


@pytest.mark.parametrize("token", ["abc", "with inner space", "pässwörd-✓", TOKEN])
def test_a_sendable_token_passes_the_check(token: str) -> None:
    assert check_token(token) == token


def test_a_non_ascii_token_sent_as_utf8_is_accepted(custom_server: Callable[..., HttpServer]) -> None:
    token = "pässwörd-✓"
    handle = custom_server(token=token)
    for header in (b"Authorization: Bearer ", b"X-RenderPlus-Token: "):
        request = b"GET /test HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header + token.encode("utf-8") + b"\r\n\r\n"
        assert split_response(raw_exchange(handle.port, request))[0] == 200  # was 401 (curl sends UTF-8)
    wrong = "pässwörd-✗".encode()
    request = b"GET /test HTTP/1.1\r\nAuthorization: Bearer " + wrong + b"\r\n\r\n"
    assert split_response(raw_exchange(handle.port, request))[0] == 401
    latin1 = token.encode("latin-1", "replace")  # the same text in another encoding is not the token
    request = b"GET /test HTTP/1.1\r\nAuthorization: Bearer " + latin1 + b"\r\n\r\n"
    assert split_response(raw_exchange(handle.port, request))[0] == 401
