"""Another local user cannot drive a server, nor read its token (docs/api.md, Access): real
accounts.

The test (as root) makes a throwaway user, serves as root, and runs the other user's requests as
that user with ``runuser`` and the system's ``/usr/bin/python3`` on a world-readable copy of the
code (the usual interpreter lives under /root, which other users cannot enter).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from renderplus.server.tokenfile import token_path

from .helpers import ROOT, ServerProcess, call, recipe_data

SYSTEM_PYTHON = "/usr/bin/python3"
pytestmark = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0 or not os.path.exists(SYSTEM_PYTHON)
    or not all(shutil.which(tool) for tool in ("useradd", "userdel", "runuser")),
    reason="needs root, useradd/userdel/runuser and /usr/bin/python3 to act as another user")

PROBE = '''
import http.client, json, sys
port, token_file, recipe = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read()

def ask(method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    return [response.status, raw.decode("utf-8", "replace")[:400]]

out = {
    "submit": ask("POST", "/batch/recipe", recipe, {"Content-Type": "application/json"}),
    "upload": ask("POST", "/batch/file?name=x.blend", b"BLENDER-v300",
                  {"Content-Type": "application/octet-stream"}),
    "start": ask("GET", "/batch/start"),
    "resume": ask("GET", "/batch/resume"),
    "cancel": ask("DELETE", "/batch"),
    "cancel_current": ask("DELETE", "/batch/jobs/current"),
    "cancel_job": ask("DELETE", "/batch/jobs/0"),
    "stop": ask("DELETE", "/server"),
    "history": ask("GET", "/batches"),
    "poll": ask("GET", "/batch"),
    "test": ask("GET", "/test"),
    "ready": ask("GET", "/batch/ready"),
    "name": ask("GET", "/batch/name"),
    "job": ask("GET", "/batch/jobs/0"),
}
try:
    open(token_file).read()
    out["read_token"] = "read"
except OSError as exc:
    out["read_token"] = type(exc).__name__
print(json.dumps(out))
'''


def world_readable(path: Path) -> None:
    for folder, _, files in os.walk(path):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)


@pytest.fixture
def other_user() -> Iterator[str]:
    name = f"renderplus-other-{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", "--remove", name], capture_output=True)


@pytest.fixture
def shared_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder every user may enter, with the code and the server's config folder in it."""
    folder = Path(tempfile.mkdtemp(prefix="renderplus-users-"))
    shutil.copytree(ROOT / "renderplus", folder / "code" / "renderplus",
                    ignore=shutil.ignore_patterns("__pycache__", "wheels"))
    (folder / "code" / "probe.py").write_text(PROBE)
    (folder / "config").mkdir()
    world_readable(folder)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder / "config"))  # the server's user's config folder
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def as_user(user: str, shared: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = ["HOME=" + str(Path("/home") / user), "PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1",
           f"PYTHONPATH={shared / 'code'}", f"XDG_CONFIG_HOME={shared / 'config'}"]
    return subprocess.run(["runuser", "-u", user, "--", "/usr/bin/env", "-i", *env, SYSTEM_PYTHON, *args],
                          cwd=shared / "code", capture_output=True, text=True, timeout=120)


def test_another_user_can_read_but_not_drive_the_server(other_user: str, shared_dir: Path,
                                                         serve: Callable[..., ServerProcess]) -> None:
    server = serve()
    token_file = token_path(server.port)
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    owner_marker, other_marker = shared_dir / "owner-hook-ran", shared_dir / "other-hook-ran"
    owners = recipe_data([{"enabled": False}], hooks={"PRE_BATCH": [{"cmd": f"touch {owner_marker}"}]})
    assert call(server.port, "POST", "/batch/recipe", owners).code == 200  # its user, with the token
    others = recipe_data([{"enabled": False}], name="not yours",
                         hooks={"PRE_BATCH": [{"cmd": f"touch {other_marker}"}]})
    (shared_dir / "code" / "recipe.json").write_text(json.dumps(others))
    world_readable(shared_dir / "code")

    probe = as_user(other_user, shared_dir, "probe.py", str(server.port), str(token_file), "recipe.json")
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout)
    for action in ("submit", "upload", "start", "resume", "cancel", "cancel_current", "cancel_job", "stop",
                   "history"):
        code, body = seen[action]
        assert code == 401, (action, code, body)
        assert f"renderplus/servers/{server.port}.json" in body
    for read in ("poll", "test", "ready", "name", "job"):
        assert seen[read][0] == 200, (read, seen[read])
    assert '"name": "server test batch"' in seen["name"][1]  # still the owner's recipe
    assert seen["read_token"] == "PermissionError"

    stop = as_user(other_user, shared_dir, "-m", "renderplus.server", "--stop", "--port", str(server.port))
    assert stop.returncode == 1 and "access token" in stop.stderr
    poll = as_user(other_user, shared_dir, "-m", "renderplus.server", "--poll-job", "0", "--port",
                   str(server.port))
    assert poll.returncode == 0, poll.stderr  # a read: open on loopback
    assert server.process.poll() is None and token_file.exists()
    assert not other_marker.exists() and not owner_marker.exists()

    assert server.client("--stop").returncode == 0  # its own user: no flags needed
    assert server.finish()[0] == 0
    assert not token_file.exists()
    assert not other_marker.exists()
