"""One standalone Render+ server for the kill -9 harness (bench/kill9.py): started, asked, killed.

Only the server's public interfaces are used: its command line (``python3 -m renderplus.server
--serve`` with ``--port``, ``--work-dir``, ``--write-log``, ``--log-dir``), the access token
given through ``RENDERPLUS_TOKEN`` (docs/api.md, Access: then every route needs it) and the
routes of docs/api.md, Routes. Every server carries ``MARK_VAR`` in its environment; Blender and
the hooks inherit it, which is how the harness finds what a server left running.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MARK_VAR = "RENDERPLUS_KILL9_MARK"
START_TIMEOUT = 60.0      # seconds for a server to answer GET /test (2 shared cores, Blenders busy)
STOP_TIMEOUT = 30.0       # seconds for DELETE /server to end the process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``python -m renderplus.server --serve`` on a free port, marked ``mark`` for the scan."""

    def __init__(self, name: str, work_dir: Path, log_dir: Path, token: str, mark: str,
                 env: dict[str, str]) -> None:
        self.name, self.mark, self.token = name, mark, token
        self.port = free_port()
        log_dir.mkdir(parents=True, exist_ok=True)
        self.output = log_dir / "server-output.txt"
        with self.output.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "renderplus.server", "--serve", "--port", str(self.port),
                 "--work-dir", str(work_dir), "--write-log", "--log-dir", str(log_dir)],
                cwd=ROOT, env={**env, "RENDERPLUS_TOKEN": token, MARK_VAR: mark},
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.pid = self.process.pid
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server {self.name} exited at start; see {self.output}")
            with contextlib.suppress(OSError, ValueError):
                if self.request("GET", "/test", timeout=5)[0] == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server {self.name} did not answer within {START_TIMEOUT:g} s")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                timeout: float = 30.0) -> tuple[int, dict[str, Any]]:
        """(status, JSON answer) with the token; an answer that is not JSON reads as ``{}``."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Authorization": f"Bearer {self.token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = {}
        return response.status, data if isinstance(data, dict) else {}

    def poll(self) -> dict[str, Any] | None:
        """The poll (docs/api.md, Poll), or None when the server does not answer with one."""
        try:
            code, data = self.request("GET", "/batch", timeout=10)
        except OSError:
            return None
        return data if code == 200 else None

    def kill9(self) -> None:
        """SIGKILL to the server process alone (not its group): what a crash does."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> bool:
        """``DELETE /server`` and wait for the exit; False when it had to be killed instead."""
        if not self.alive:
            return True
        with contextlib.suppress(OSError):
            self.request("DELETE", "/server", timeout=STOP_TIMEOUT)
        try:
            self.process.wait(STOP_TIMEOUT)
            return True
        except subprocess.TimeoutExpired:
            self.kill9()
            return False
