"""Which Render+ server of this user already runs, so that a Blender opened meanwhile attaches
to it instead of fighting it for the port and the store.

Every server leaves its address and token in the user's servers folder (``server.tokenfile``);
a record whose process is gone is ignored, and so is this Blender's own server. A record counts
only when its server answers ``GET /batch`` as a Render+ server does (a poll, or 409 "no recipe
yet"), within a short timeout: the add-on asks from Blender's main thread.
"""

from __future__ import annotations

import os

from ..server.tokenfile import ServerRecord, process_alive, servers_folder
from .remote_link import ServerGoneError, ServerLink

PROBE_TIMEOUT = 1.0   # seconds a server has to answer the probe


def server_records() -> list[ServerRecord]:
    """The records of live servers in the user's servers folder, oldest server first."""
    records = []
    try:
        paths = sorted(servers_folder().glob("*.json"))
    except OSError:
        return []
    for path in paths:
        try:
            record = ServerRecord.from_json(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        if record is not None and path.stem == str(record.port) and process_alive(record.pid):
            records.append(record)
    return sorted(records, key=lambda record: record.started)


def other_server(own_pid: int | None = None) -> ServerRecord | None:
    """The live Render+ server of this user that is not this process's own, or None."""
    own = os.getpid() if own_pid is None else own_pid
    for record in server_records():
        if record.pid != own and answers(record):
            return record
    return None


def answers(record: ServerRecord) -> bool:
    """The server answers the poll as a Render+ server (200, or 409 before any recipe)."""
    try:
        answer = ServerLink(record, PROBE_TIMEOUT).request("GET", "/batch")
    except (ServerGoneError, TimeoutError):
        return False
    return answer.status == 200 or (answer.status == 409 and "status" in answer.data)
