"""Who may talk to the server: the Host rule, browser cross-site rules and the access token.

A server on 127.0.0.1 is still reachable from every web page the user opens: a page can make
the browser send requests to ``localhost:7777``, and with DNS rebinding (its own name briefly
resolving to 127.0.0.1) it could even read the answers. A recipe runs shell hooks, so that
would be remote code execution. Three rules close it, checked on every request before any route:

1. The ``Host`` header must name this server (``127.0.0.1``, ``localhost``, ``[::1]``, the
   bound address, or -- when listening on another address -- this machine's name or the
   address the client connected to), with this server's port. A rebinding page sends its own
   name, so it is refused with 403. A request with no Host header (HTTP/1.0 tools) passes:
   browsers always send one.
2. Browsers mark cross-site requests (``Sec-Fetch-Site``, ``Origin``): those are refused with
   403, which also stops a page from firing ``GET /batch/start`` through an ``<img>`` tag.
3. When a token is configured (required off loopback) every request must carry it, as
   ``Authorization: Bearer <token>`` or ``X-RenderPlus-Token: <token>``; otherwise 401. The
   comparison is of bytes (the token's UTF-8, as curl sends it) and takes constant time.
   ``check_token`` refuses, at start-up, a token nobody could send (empty, only whitespace,
   whitespace at its ends -- HTTP drops it -- or control characters).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
TOKEN_HEADER = "HTTP_X_RENDERPLUS_TOKEN"
LOCAL_ADDR_KEY = "renderplus.local_addr"  # set by httpd: the address this connection reached

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def check_token(token: str) -> str:
    """``token`` when a client can send it in an HTTP header; ValueError with a sentence if not."""
    if not token.strip():
        raise ValueError("The access token is empty or only whitespace: no client could send it; "
                         "choose a token of visible characters")
    if token != token.strip(" \t"):
        raise ValueError("The access token starts or ends with whitespace, which HTTP drops from "
                         "header values: remove it")
    if any(ord(char) < 32 or ord(char) == 127 for char in token):
        raise ValueError("The access token contains a control character (a line break or tab?), "
                         "which cannot be sent in an HTTP header")
    return token


def header_bytes(value: str) -> bytes:
    """A header value's bytes as they came off the wire (WSGI hands them over as latin-1 text)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # not from the wire (a test, another server): take it as text
        return value.encode("utf-8", "replace")


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> tuple[str, int | None] | None:
    """``"[::1]:7777"`` -> ``("::1", 7777)``; None when the value is not a valid Host."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1:]
    else:
        if value.count(":") > 1:
            return None
        host, sep, port = value.partition(":")
        rest = sep + port
    if not rest:
        return host.rstrip("."), None
    if not rest.startswith(":") or not rest[1:].isdigit() or len(rest) > 6:
        return None
    return host.rstrip("."), int(rest[1:])


def _unmapped(address: str) -> str:
    address = address.lower()
    return address[7:] if address.startswith("::ffff:") else address


def json_response(start_response: StartResponse, code: int, reason: str, status: str,
                  headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = json.dumps({"status": status}).encode()
    start_response(f"{code} {reason}", [("Content-Type", "application/json"),
                                        ("Content-Length", str(len(body))), *(headers or [])])
    return [body]


class AccessGuard:
    """WSGI middleware applying the module's three rules in front of ``app``."""

    def __init__(self, app: WsgiApp, *, port: int, bound_host: str, token: str | None = None) -> None:
        self.app = app
        self.port = port
        self.token = token.encode("utf-8") if token else None
        bound = bound_host.strip("[]").lower()
        names = set(LOCAL_NAMES)
        if bound not in WILDCARDS:
            names.add(bound)
        if not is_loopback(bound):
            names.update(self._machine_names())
        self.allowed_names = frozenset(names)

    @staticmethod
    def _machine_names() -> set[str]:
        names: set[str] = set()
        try:
            short = socket.gethostname().lower()
            names.update({short, short + ".local", socket.getfqdn().lower()})
        except OSError:
            pass
        return {name.rstrip(".") for name in names if name}

    def host_allowed(self, host: str, port: int | None, local_addr: str | None) -> bool:
        if port is not None and port != self.port:
            return False
        if host in self.allowed_names:
            return True
        return local_addr is not None and host == _unmapped(local_addr)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        local_addr = environ.get(LOCAL_ADDR_KEY)
        raw_host = environ.get("HTTP_HOST")
        if raw_host is not None:
            parsed = split_host(raw_host)
            if parsed is None or not self.host_allowed(parsed[0], parsed[1], local_addr):
                return json_response(start_response, 403, "Forbidden",
                                     f"Host {raw_host!r} is not this server: use 127.0.0.1:{self.port}")
        problem = self._cross_site_problem(environ, local_addr)
        if problem:
            return json_response(start_response, 403, "Forbidden", problem)
        if self.token is not None and not self._token_ok(environ):
            return json_response(start_response, 401, "Unauthorized",
                                 "This server needs its access token: send 'Authorization: Bearer "
                                 "<token>' or 'X-RenderPlus-Token: <token>'",
                                 [("WWW-Authenticate", 'Bearer realm="Render+"')])
        return self.app(environ, start_response)

    def _cross_site_problem(self, environ: dict[str, Any], local_addr: str | None) -> str | None:
        site = environ.get("HTTP_SEC_FETCH_SITE", "").lower()
        if site in ("cross-site", "same-site"):
            return "Requests from other web sites are refused"
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:
            return None
        try:
            parts = urlsplit(origin)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return f"Origin {origin!r} is not this server"
        host = (parts.hostname or "").rstrip(".")
        if parts.scheme not in ("http", "https") or not self.host_allowed(host, port, local_addr):
            return f"Origin {origin!r} is not this server"
        return None

    def _token_ok(self, environ: dict[str, Any]) -> bool:
        assert self.token is not None
        given = environ.get(TOKEN_HEADER)
        if given is None:
            scheme, _, value = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme.lower() != "bearer":
                return False
            given = value
        return hmac.compare_digest(header_bytes(given.strip(" \t")), self.token)
