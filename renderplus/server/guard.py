"""Who may talk to the server: the Host rule, browser cross-site rules and the access token.

A server on 127.0.0.1 is still reachable from every web page the user opens: a page can make
the browser send requests to ``localhost:7777``, and with DNS rebinding (its own name briefly
resolving to 127.0.0.1) it could even read the answers. A recipe runs shell hooks, so that
would be remote code execution. And every other local user and program can reach 127.0.0.1
too. Three rules close it, checked on every request before any route:

1. The ``Host`` header must name this server (``127.0.0.1``, ``localhost``, ``[::1]``, the
   bound address, or -- when listening on another address -- this machine's name or the
   address the client connected to), with this server's port. A rebinding page sends its own
   name, so it is refused with 403. A request with no Host header (HTTP/1.0 tools) passes:
   browsers always send one.
2. Browsers mark cross-site requests (``Sec-Fetch-Site``, ``Origin``): those are refused with
   403, which also stops a page from firing ``GET /batch/start`` through an ``<img>`` tag.
3. The access token (docs/api.md, Access), sent as ``Authorization: Bearer <token>`` or
   ``X-RenderPlus-Token: <token>`` -- never in the URL (it would end up in logs and browser
   history) and never as a cookie (cookies ignore ports: another user's server on another port
   would receive it). What needs it is a column of ``ROUTE_ACCESS``: with the server's own
   (generated) token, the read routes (``Access.READ``) stay open on loopback and everything
   else needs it; a token given explicitly guards every request; ``--no-token`` opens loopback.
   A client that is not on loopback always needs it. The comparison is of bytes (the token's
   UTF-8, as curl sends it) and takes constant time. ``check_token`` refuses, at start-up, a
   token nobody could send (empty, only whitespace, whitespace at its ends -- HTTP drops it --
   or control characters).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
import socket
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
TOKEN_HEADER = "HTTP_X_RENDERPLUS_TOKEN"
LOCAL_ADDR_KEY = "renderplus.local_addr"  # set by httpd: the address this connection reached
TOKEN_SHOWN_KEY = "renderplus.token_shown"  # set here: True when the request may see private data

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Access(Enum):
    """What a route does, which decides who may call it (docs/api.md, Access)."""

    PUBLIC = "public"    # the dashboard page and its static files: no data, no secret; never a token
    READ = "read"        # polls and server information: loopback open unless the token was given explicitly
    PRIVATE = "private"  # reads that show file contents or paths (frames, previews, history)
    CHANGE = "change"    # changes the batch or the server, or runs something: always the token


class TokenScope(Enum):
    """Which requests on loopback need the token (off loopback every request does)."""

    EVERY_REQUEST = "every request"  # a token given explicitly: 1.0's rule
    NOT_READS = "all but reads"      # the server's own token: Access.READ routes stay open
    OFF = "off"                      # --no-token: loopback is open, on purpose


# Every route of the app, by method and path ({name}: one path segment). A route missing here
# needs the token (the default is closed); tests/server/test_token_routes.py fails for a route
# of the app that is not listed, so a new route has to say what it is.
ROUTE_ACCESS: dict[tuple[str, str], Access] = {
    ("GET", "/"): Access.PUBLIC,  # a browser opening a URL cannot send a header
    ("GET", "/dashboard/{name}"): Access.PUBLIC,
    ("GET", "/test"): Access.READ,
    ("GET", "/openapi.json"): Access.READ,
    ("GET", "/batch"): Access.READ,
    ("GET", "/batch/ready"): Access.READ,
    ("GET", "/batch/name"): Access.READ,
    ("GET", "/batch/jobs/{id}"): Access.READ,
    ("GET", "/batches"): Access.PRIVATE,
    ("GET", "/frames/{batch}/{job}/{index}"): Access.PRIVATE,
    ("GET", "/previews/{batch}/{job}/{index}"): Access.PRIVATE,
    ("GET", "/batch/jobs/{id}/movie"): Access.PRIVATE,  # a movie is file contents, as frames are
    ("POST", "/batch/recipe"): Access.CHANGE,
    ("POST", "/batch/file"): Access.CHANGE,
    ("GET", "/batch/start"): Access.CHANGE,
    ("GET", "/batch/resume"): Access.CHANGE,
    ("DELETE", "/batch"): Access.CHANGE,
    ("DELETE", "/batch/jobs/current"): Access.CHANGE,
    ("DELETE", "/batch/jobs/{id}"): Access.CHANGE,
    ("DELETE", "/server"): Access.CHANGE,
    ("GET", "/queue"): Access.PRIVATE,  # what others render, by name: like the history
    ("POST", "/queue"): Access.CHANGE,
    ("PATCH", "/queue/{id}"): Access.CHANGE,
    ("DELETE", "/queue/{id}"): Access.CHANGE,
    ("POST", "/queue/hold"): Access.CHANGE,
    ("POST", "/queue/continue"): Access.CHANGE,
    ("POST", "/batch/jobs"): Access.CHANGE,
    ("PATCH", "/batch/jobs/{id}"): Access.CHANGE,
    ("POST", "/batch/pause"): Access.CHANGE,
}


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^/{}]+\})", template)
    return re.compile("".join("[^/]*" if part.startswith("{") else re.escape(part) for part in parts) + r"\Z")


def _patterns(kind: Access) -> tuple[re.Pattern[str], ...]:
    return tuple(_template_pattern(path) for (method, path), access in ROUTE_ACCESS.items()
                 if method == "GET" and access is kind)


_PUBLIC, _OPEN_READS = _patterns(Access.PUBLIC), _patterns(Access.READ)


def _is_get(method: str) -> bool:
    return method.upper() in ("GET", "HEAD")  # HEAD is answered as GET by Bottle


def is_public(method: str, path: str) -> bool:
    """True for a request to an ``Access.PUBLIC`` route (the dashboard's page and files)."""
    return _is_get(method) and any(pattern.match(path) for pattern in _PUBLIC)


def is_open_read(method: str, path: str) -> bool:
    """True for a request to an ``Access.READ`` route."""
    return _is_get(method) and any(pattern.match(path) for pattern in _OPEN_READS)


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


TOKEN_HOW = ("send it as 'Authorization: Bearer TOKEN' (or 'X-RenderPlus-Token: TOKEN'), "
             "never in the URL")


class AccessGuard:
    """WSGI middleware applying the module's three rules in front of ``app``.

    ``token_hint`` finishes the 401 sentence: where the user who started the server finds the
    token (its file, or the flag it was given with)."""

    def __init__(self, app: WsgiApp, *, port: int, bound_host: str, token: str | None = None,
                 scope: TokenScope = TokenScope.EVERY_REQUEST, token_hint: str = "") -> None:
        self.app = app
        self.port = port
        self.token = token.encode("utf-8") if token else None
        self.scope = scope if token else TokenScope.OFF
        self.token_hint = token_hint or "it is the token the server was started with"
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
        remote = str(environ.get("REMOTE_ADDR") or "127.0.0.1")
        loopback = is_loopback(_unmapped(remote))
        sent = self._sent_token(environ)
        valid = sent is not None and self.token is not None \
            and hmac.compare_digest(header_bytes(sent), self.token)
        # An open read shows hook commands, their output and full paths only to the token's
        # holder, or to anyone on loopback when it was opened on purpose (docs/api.md, Access).
        environ[TOKEN_SHOWN_KEY] = valid or (loopback and self.scope is TokenScope.OFF)
        if not self.needs_token(environ, loopback):
            return self.app(environ, start_response)
        if self.token is None:
            return json_response(start_response, 403, "Forbidden",
                                 "Only this machine may talk to a server without an access token")
        if not valid:
            return json_response(start_response, 401, "Unauthorized", self._refusal(environ, sent),
                                 [("WWW-Authenticate", 'Bearer realm="Render+"')])
        return self.app(environ, start_response)

    def needs_token(self, environ: dict[str, Any], loopback_client: bool) -> bool:
        """Whether this request must carry the token (the module's rule 3)."""
        method, path = str(environ.get("REQUEST_METHOD", "GET")), str(environ.get("PATH_INFO", "/"))
        if is_public(method, path):
            return False
        if not loopback_client or self.scope is TokenScope.EVERY_REQUEST:
            return True
        return self.scope is not TokenScope.OFF and not is_open_read(method, path)

    def _refusal(self, environ: dict[str, Any], sent: str | None) -> str:
        if sent is not None:
            what = "The access token sent is not this server's"
        elif self.scope is TokenScope.EVERY_REQUEST:
            what = "This server needs its access token on every request"
        else:
            method = str(environ.get("REQUEST_METHOD", "GET")).upper()
            what = f"{method} {environ.get('PATH_INFO', '/')} needs this server's access token"
        return f"{what}: {self.token_hint}; {TOKEN_HOW}"

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

    @staticmethod
    def _sent_token(environ: dict[str, Any]) -> str | None:
        """The token the request's headers carry (only headers: never the URL, never a cookie)."""
        given = environ.get(TOKEN_HEADER)
        if given is None:
            scheme, _, value = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme.lower() != "bearer":
                return None
            given = value
        return str(given).strip(" \t")
