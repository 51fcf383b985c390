"""HTTP to another Render+ server of this user, with the token it saved for us (``server.tokenfile``).

Standard library only (``http.client``) and short timeouts: the add-on calls it from Blender's
main thread for an action (Render, Cancel, Pause...) and from its polling thread. Every refusal
becomes a ``ServiceError`` carrying the server's own sentence (an error answer's ``status``,
docs/api.md, Errors), so the panel shows what it shows for a batch of its own.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any

from ..batch.service import ServiceError
from ..server.tokenfile import ServerRecord

ACTION_TIMEOUT = 3.0   # seconds an action waits for the server (Blender's main thread)


class ServerGoneError(ServiceError):
    """The server does not answer any more (it ended, or its port closed)."""


@dataclass(frozen=True)
class Answer:
    status: int
    data: dict[str, Any]
    headers: dict[str, str]


class ServerLink:
    """Requests to the server ``record`` names, each on its own short-lived connection."""

    def __init__(self, record: ServerRecord, timeout: float = ACTION_TIMEOUT) -> None:
        self.record = record
        self.timeout = timeout

    @property
    def url(self) -> str:
        return self.record.url

    def request(self, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
                timeout: float | None = None) -> Answer:
        """The answer (any status); ServerGoneError when none came, TimeoutError when it was slow."""
        sent = {"Authorization": f"Bearer {self.record.token}", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            sent["Content-Type"] = "application/json"
        host = self.record.host.strip("[]")
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        connection = http.client.HTTPConnection(host, self.record.port, timeout=timeout or self.timeout)
        try:
            connection.request(method, path, body=payload, headers=sent)
            response = connection.getresponse()
            raw = response.read()
            answer_headers = {key.lower(): value for key, value in response.getheaders()}
        except TimeoutError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            raise ServerGoneError(f"The Render+ server at {self.url} does not answer: {exc}") from None
        finally:
            connection.close()
        try:
            data = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError):
            data = {}
        return Answer(response.status, data if isinstance(data, dict) else {}, answer_headers)

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """The JSON of a successful answer; a refusal raises ServiceError with its sentence, a
        server too slow to answer one saying so."""
        try:
            answer = self.request(method, path, body)
        except TimeoutError:
            raise ServiceError(f"The Render+ server at {self.url} did not answer within "
                               f"{self.timeout:g} s") from None
        if answer.status >= 400:
            sentence = str(answer.data.get("status") or f"HTTP {answer.status}")
            raise ServiceError(sentence)
        return answer.data
