"""HTTP over a real socket, recipes, and process lookups for the server tests."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.ports import free_port as free_port  # re-exported, as wait_for: the server tests import
from tests.ports import port_is_free as port_is_free  # them from here
from tests.waiting import wait_for as wait_for

ROOT = Path(__file__).resolve().parents[2]
SLEEP_HOOK = "sleep 61.25"  # an unusual duration: the test can find exactly this process


@dataclass
class Answer:
    code: int
    headers: dict[str, str]
    raw: bytes

    @property
    def data(self) -> Any:
        return json.loads(self.raw.decode("utf-8"))


def saved_token(port: int) -> str | None:
    """The token the server on ``port`` saved for this user (as the CLI finds it), if any."""
    from renderplus.server.tokenfile import read_record

    record = read_record(port)
    return record.token if record else None


def with_token(port: int, headers: dict[str, str] | None) -> dict[str, str]:
    """``headers`` plus the server's saved token, unless they already carry a token."""
    sent = dict(headers or {})
    if not {"authorization", "x-renderplus-token"} & {key.lower() for key in sent}:
        token = saved_token(port)
        if token:
            sent["Authorization"] = f"Bearer {token}"
    return sent


Body = bytes | str | dict[str, Any] | list[Any] | None


def request_body(body: Body, headers: dict[str, str], content_type: str | None) -> bytes | None:
    """``body`` as bytes (dicts and lists as JSON); sets ``Content-Type`` in ``headers`` when
    there is a body and none was given. Shared by the socket and the in-process clients."""
    if isinstance(body, dict | list):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    if body is not None and content_type is not None:
        headers.setdefault("Content-Type", content_type)
    return body


def call(port: int, method: str, path: str, body: Body = None,
         headers: dict[str, str] | None = None, *, content_type: str | None = "application/json",
         host: str = "127.0.0.1", timeout: float = 60.0, auth: bool = True) -> Answer:
    """One request with http.client; ``body`` dicts/lists are sent as JSON. ``auth``: send the
    server's saved token (as its user's CLI does) unless ``headers`` carry one."""
    sent = with_token(port, headers) if auth else dict(headers or {})
    body = request_body(body, sent, content_type)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def raw_exchange(port: int, payload: bytes, *, timeout: float = 20.0, auth: bool = True) -> bytes:
    """Send bytes as they are and read the whole answer (for what http.client cannot send).

    ``auth``: a request line followed by headers gets the server's saved token as its first
    header (as its user's CLI would send it) unless the payload carries a token already."""
    if auth:
        payload = _token_header_added(port, payload)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def _token_header_added(port: int, payload: bytes) -> bytes:
    line, sep, rest = payload.partition(b"\r\n")
    lowered = payload.lower()
    if not sep or not line.endswith((b"HTTP/1.0", b"HTTP/1.1")) or b"\r\nauthorization:" in lowered \
            or b"\r\nx-renderplus-token:" in lowered:
        return payload
    token = saved_token(port)
    return line + sep + f"Authorization: Bearer {token}\r\n".encode() + rest if token else payload


def split_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def recipe_data(jobs: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    for index, job in enumerate(jobs):
        job.setdefault("id", index)
        job.setdefault("name", f"job{index}")
        job.setdefault("blend_file", "scene.blend")
    data: dict[str, Any] = {"version": 2.2, "name": "server test batch", "jobs": jobs,
                            "blender_bin": sys.executable}
    data.update(top)
    return data


def held_recipe(**top: Any) -> dict[str, Any]:
    """A batch held RUNNING by a PRE_BATCH hook (a real shell command) before any job starts,
    so the running state needs no Blender. ``blender_bin`` exists but is never reached."""
    return recipe_data([{"name": "first"}, {"name": "second", "enabled": False}, {"name": "third"}],
                       hooks={"PRE_BATCH": [{"cmd": SLEEP_HOOK}], "POST_BATCH": []}, **top)


def multipart(fields: dict[str, tuple[str | None, bytes]],
              boundary: str = "rp-test-boundary-42") -> tuple[bytes, str]:
    """A multipart/form-data body: {field: (filename or None, content)}."""
    out = b""
    for name, (filename, content) in fields.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    """``python -m renderplus.server ARGS`` run to its end."""
    return subprocess.run([sys.executable, "-m", "renderplus.server", *args], cwd=cwd or ROOT,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout)


class ServerProcess:
    """``python -m renderplus.server --serve`` in the background, on a free port."""

    def __init__(self, *args: str, work_dir: Path, env: dict[str, str] | None = None,
                 command: list[str] | None = None, cwd: Path | None = None, token: str | None = None) -> None:
        self.port = free_port()
        self.token = token
        base = command or [sys.executable, "-m", "renderplus.server"]
        self.process = subprocess.Popen(
            [*base, "--serve", "--port", str(self.port), "--work-dir", str(work_dir), *args],
            cwd=cwd or ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        headers = {"Authorization": f"Bearer {token}"} if token else None
        wait_for(lambda: self._answers(headers), timeout=60)

    def _answers(self, headers: dict[str, str] | None) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the server exited: {self.process.communicate()[0]}")
        try:
            return call(self.port, "GET", "/test", headers=headers).code == 200
        except OSError:
            return False

    def client(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return cli(*args, "--port", str(self.port), **kwargs)

    def finish(self, timeout: float = 60.0) -> tuple[int, str]:
        out, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, out

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()


def copy_addon(target: Path, *, with_wheel: bool, name: str = "renderplus") -> Path:
    """The add-on folder as an installation has it (any folder name), with the Bottle wheel the
    build bundles (made here from the installed bottle.py: a wheel is a zip) or without."""
    import shutil
    import zipfile

    addon = target / name
    shutil.copytree(ROOT / "renderplus", addon, ignore=shutil.ignore_patterns("__pycache__", "wheels", "log"))
    if with_wheel:
        import bottle
        (addon / "wheels").mkdir()
        with zipfile.ZipFile(addon / "wheels" / "bottle-0.13.4-py3-none-any.whl", "w") as wheel:
            wheel.write(bottle.__file__, "bottle.py")
    return addon
