"""Where a running server leaves its address and token for the user who started it.

One JSON file per port in the user's own config folder
(``$XDG_CONFIG_HOME/renderplus/servers/<port>.json``, ``~/.config/...`` by default,
``%APPDATA%\\renderplus\\servers`` on Windows): the folder is 0700 and the file 0600, so only that
user (and root) can read the token, and that user's CLI finds it without typing anything
(docs/api.md, Access). The file is written atomically (a temporary file renamed over it), replaced
by the next server on the port, and removed on stop -- only while it is still this server's, so a
server stopping late never removes its successor's file. A file whose process is gone (a server
killed with SIGKILL) is ignored by readers and replaced by the next server.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SERVERS_FOLDER = ("renderplus", "servers")
CONFIG_ENV = "XDG_CONFIG_HOME"


class TokenFileError(OSError):
    """The token file cannot be written safely; ``str()`` says why."""


@dataclass(frozen=True)
class ServerRecord:
    """What the file holds: enough for a client to reach the server and prove it is its user."""

    url: str
    host: str
    port: int
    token: str
    pid: int
    started: float

    def to_json(self) -> str:
        return json.dumps({"url": self.url, "host": self.host, "port": self.port, "token": self.token,
                           "pid": self.pid, "started": self.started}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ServerRecord | None:
        """The record, or None for anything that is not one (a half-written or foreign file)."""
        try:
            data = json.loads(text)
            record = cls(url=str(data["url"]), host=str(data["host"]), port=int(data["port"]),
                         token=str(data["token"]), pid=int(data["pid"]), started=float(data["started"]))
        except (ValueError, KeyError, TypeError):
            return None
        return record if record.token else None


def servers_folder() -> Path:
    """The per-user folder of server files (it may not exist yet)."""
    if os.name == "nt":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
    else:
        base = os.environ.get(CONFIG_ENV) or str(Path.home() / ".config")
    return Path(base).joinpath(*SERVERS_FOLDER)


def token_path(port: int) -> Path:
    return servers_folder() / f"{int(port)}.json"


def shown_path(path: Path) -> str:
    """``~/.config/renderplus/servers/7777.json`` when under the home folder: shorter, and the
    same words for every user who reads the 401 sentence."""
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)


def _private_folder() -> Path:
    """The servers folder, made (0700) or checked: a real folder of this user, 0700."""
    folder = servers_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise TokenFileError(f"{folder} is not a folder (a link?): the token is not written there")
    if os.name != "nt":
        if info.st_uid != os.getuid():
            raise TokenFileError(f"{folder} belongs to another user: the token is not written there")
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(folder, 0o700)
    return folder


def write_record(record: ServerRecord) -> Path:
    """Write (or replace) the port's file atomically, mode 0600; TokenFileError / OSError."""
    folder = _private_folder()
    target = folder / f"{record.port}.json"
    descriptor, temporary = tempfile.mkstemp(prefix=f".{record.port}-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:  # mkstemp makes it 0600
            stream.write(record.to_json())
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target


def new_record(url: str, host: str, port: int, token: str) -> ServerRecord:
    return ServerRecord(url=url, host=host, port=port, token=token, pid=os.getpid(), started=time.time())


def read_record(port: int) -> ServerRecord | None:
    """The live server's record for ``port``; None when there is none, it is unreadable, or its
    process has ended (a stale file)."""
    try:
        text = token_path(port).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    record = ServerRecord.from_json(text)
    if record is None or record.port != port or not process_alive(record.pid):
        return None
    return record


def remove_record(record: ServerRecord) -> None:
    """Remove the port's file if it still holds ``record`` (a newer server's file stays)."""
    path = token_path(record.port)
    try:
        current = ServerRecord.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return
    if current is not None and current.token == record.token and current.pid == record.pid:
        with contextlib.suppress(OSError):
            path.unlink()


def process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # no signal 0 on Windows: trust the file (the port answers or it does not)
        return True
    try:
        os.kill(pid, 0)
    except OSError:  # gone, or alive but another user's (a reused pid): not our server
        return False
    return True
