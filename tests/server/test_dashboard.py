"""The dashboard page and its files over a real socket: content, headers, and no way around the list."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.server import ServerHandle
from renderplus.server.dashboard_routes import (
    CONTENT_SECURITY_POLICY,
    PUBLIC_PATHS,
    STATIC_DIR,
    STATIC_TYPES,
    load_static,
)
from renderplus.server.httpd import HttpServer

from .helpers import call, raw_exchange, split_response

SHIPPED = sorted(STATIC_TYPES)


def test_the_page_is_served_at_the_root_with_strict_headers(server: ServerHandle) -> None:
    answer = call(server.port, "GET", "/")
    assert answer.code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.raw == (STATIC_DIR / "index.html").read_bytes()
    csp = answer.headers["content-security-policy"]
    for rule in ("default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'",
                 "img-src 'self' blob: data:", "form-action 'none'", "base-uri 'none'"):
        assert rule in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert b'src="/dashboard/dashboard.js"' in answer.raw and b'href="/dashboard/dashboard.css"' in answer.raw


@pytest.mark.parametrize("name", SHIPPED)
def test_each_file_has_its_type_an_etag_and_answers_304_when_unchanged(server: ServerHandle,
                                                                       name: str) -> None:
    first = call(server.port, "GET", f"/dashboard/{name}")
    assert first.code == 200
    assert first.headers["content-type"] == STATIC_TYPES[name]
    assert first.raw == (STATIC_DIR / name).read_bytes()
    assert first.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    again = call(server.port, "GET", f"/dashboard/{name}", headers={"If-None-Match": first.headers["etag"]})
    assert again.code == 304 and again.raw == b""
    other = call(server.port, "GET", f"/dashboard/{name}", headers={"If-None-Match": '"something-else"'})
    assert other.code == 200


def test_the_files_are_small_plain_and_self_contained() -> None:
    """No build step, no CDN, works offline: nothing is loaded from another address."""
    total = 0
    for name in SHIPPED:
        text = (STATIC_DIR / name).read_text(encoding="utf-8")
        total += len(text.encode())
        urls = set(re.findall(r"https?://[^\s\"')]+", text)) - {"http://www.w3.org/2000/svg"}
        assert not urls, (name, urls)
        assert "innerHTML" not in text and "eval(" not in text and "document.cookie" not in text
    assert total < 64 * 1024
    page = (STATIC_DIR / "index.html").read_text()
    scripts = re.findall(r"<script[^>]*>", page)  # files only: no inline script (the CSP forbids it)
    assert scripts and all(re.fullmatch(r'<script src="/dashboard/[a-z_]+\.js" defer>', tag)
                           for tag in scripts)
    assert page.count("<script") == page.count("</script>") == len(scripts)
    assert "style=" not in page        # no inline style either


def test_the_page_loads_every_script_shipped_and_nothing_else() -> None:
    page = (STATIC_DIR / "index.html").read_text()
    loaded = re.findall(r'<script src="/dashboard/([a-z_]+\.js)"', page)
    assert loaded[0] == "dashboard.js"  # the core first: the others add to it
    assert sorted(loaded) == sorted(name for name in STATIC_TYPES if name.endswith(".js"))


def test_the_token_is_kept_per_tab_and_sent_as_a_header() -> None:
    """The rules of the issue, as the script spells them (the browser tests run them)."""
    script = (STATIC_DIR / "dashboard.js").read_text()
    assert "sessionStorage" in script and "localStorage" not in script
    assert "history.replaceState" in script
    assert '"Bearer "' in script and 'credentials: "omit"' in script
    assert "URL.createObjectURL" in script


@pytest.mark.parametrize("path", [
    "/dashboard/../app.py", "/dashboard/%2e%2e/app.py", "/dashboard/..%2fapp.py",
    "/dashboard/%2e%2e%2fapp.py", "/dashboard/..%5capp.py", "/dashboard/..\\app.py",
    "/dashboard//etc/passwd", "/dashboard/%2fetc%2fpasswd", "/dashboard/index.html%00.js", "/dashboard/",
    "/dashboard", "/dashboard/..", "/dashboard/.", "/dashboard/./dashboard.js",
    "/dashboard/dashboard_routes.py", "/dashboard/DASHBOARD.JS", "/dashboard/%64ashboard.js.map",
    "/dashboard/dashboard.js/", "/dashboard/~root", "/..%2f..%2fetc%2fpasswd",
    "/dashboard/%c0%ae%c0%ae%c0%afapp.py", "/dashboard/file:%2f%2f%2fetc%2fpasswd",
])
def test_nothing_but_the_listed_files_is_served(server: ServerHandle, path: str) -> None:
    status, headers, body = split_response(raw_exchange(
        server.port, f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()))
    assert status in (400, 404), (path, status)
    assert headers["content-type"] == "application/json"
    assert b"import" not in body and b"root:" not in body


def test_a_missing_file_is_left_out(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>x</p>")
    assert set(load_static(tmp_path)) == {"index.html"}


def test_the_public_paths_are_exactly_the_page_and_its_files() -> None:
    assert PUBLIC_PATHS == ("/", "/dashboard/index.html", "/dashboard/dashboard.css",
                            "/dashboard/dashboard.js", "/dashboard/dashboard_charts.js",
                            "/dashboard/dashboard_drag.js", "/dashboard/dashboard_edits.js",
                            "/dashboard/dashboard_queue.js", "/dashboard/dashboard_movie.js")


def test_cross_site_requests_for_the_page_are_refused(server: ServerHandle) -> None:
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "http://127.0.0.1:1"}, {"Origin": "http://evil.example"}):
        assert call(server.port, "GET", "/", headers=headers).code == 403, headers
    assert call(server.port, "GET", "/", headers={"Host": "evil.example"}).code == 403


def test_with_an_explicit_token_frames_need_it(custom_server: Callable[..., HttpServer]) -> None:
    handle = custom_server(token="s3cret-token")
    assert call(handle.port, "GET", "/frames/current/0/last").code == 401
    answer = call(handle.port, "GET", "/frames/current/0/last",
                  headers={"Authorization": "Bearer s3cret-token"})
    assert answer.code == 404 and "No batch" in answer.data["status"]  # past the guard
