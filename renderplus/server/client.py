"""A small HTTP client for the CLI's client flags (``--poll``, ``--cancel``, ``--stop``...).

Standard library only (``http.client``), so the client flags work without Bottle; every
answer, error or not, is returned as (status code, JSON object), and a server that does not
answer becomes one ``ClientError`` with a sentence saying so.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any

DEFAULT_TIMEOUT = 30.0


class ClientError(Exception):
    """No usable answer from the server; ``str()`` says why, for people."""


class ServerClient:
    def __init__(self, host: str = "127.0.0.1", port: int = 7777, token: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.host = host.strip("[]")
        self.port = port
        self.token = token
        self.timeout = timeout

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status code, JSON body, response headers); ClientError when nothing usable came back."""
        sent = dict(headers or {})
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            raw = response.read()
            answer_headers = {key.lower(): value for key, value in response.getheaders()}
        except ConnectionRefusedError:
            raise ClientError(f"No Render+ server is running on {self.where} (connection refused); "
                              "start one with --serve") from None
        except TimeoutError:
            raise ClientError(f"The server on {self.where} did not answer "
                              f"within {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise ClientError(f"Cannot talk to the server on {self.where}: {exc}") from None
        finally:
            connection.close()
        if response.status == 304:
            return 304, {}, answer_headers
        try:
            data = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError):
            raise ClientError(f"The server on {self.where} did not answer JSON "
                              f"(HTTP {response.status}): is it a Render+ server?") from None
        if not isinstance(data, dict):
            raise ClientError(f"Unexpected answer from {self.where}: {raw[:80]!r}")
        return response.status, data, answer_headers

    def port_free(self) -> bool:
        """True when nothing listens on the port any more."""
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0):
                return False
        except OSError:
            return True

    def wait_port_free(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.port_free():
                return True
            time.sleep(0.1)
        return self.port_free()
