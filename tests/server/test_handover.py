"""Keeping a batch rendering without Blender (``renderplus.server.handover`` and ``--serve
--handed-over``), with real processes: the quitting Blender (scripts/quitting_blender.py: the
add-on's batch slot and in-process server, from an installed add-on's copy whose Bottle is the
bundled wheel) is a plain Python that has nothing installed, or the real Blender 3.4 in the
background, which hands over with its own ``sys.executable`` and quits; Blender 3.4 renders.
The handed-over server waits for that process and its port, continues the batch it paused
(PRE_JOB again, PRE_BATCH not) or left interrupted as a crash would (only the missing frames
either way), keeps the token clients had and the webhook URL kept aside, runs the queue, then
stops by itself: no token file, no process left. Also: a port still held is waited for; no
fitting Python, or a server that cannot start, is a sentence and nothing is left running; the
choice of Python on stand-in candidates; the flags belong to --serve."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.store import BatchStore
from renderplus.server import handover
from renderplus.server.handover import HandOverError, choose_python, hand_over
from renderplus.server.tokenfile import token_path
from tests.around.webhook_receiver import SECRET, Receiver, receiver  # noqa: F401 -- the fixture
from tests.procs import is_alive, pids_in_group, processes_with

from .helpers import call, copy_addon, free_port, wait_for

BLENDER = shutil.which("blender") or "/usr/bin/blender"
SCRIPT = Path(__file__).resolve().parent / "scripts" / "quitting_blender.py"


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Python with nothing installed (a venv without pip: no Bottle), as a Blender's may be."""
    folder = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = str(folder / "bin" / "python3")
    assert subprocess.run([python, "-c", "import bottle"], capture_output=True).returncode != 0
    return python


@pytest.fixture
def installed_addon(tmp_path: Path) -> Path:
    return copy_addon(tmp_path / "addons", with_wheel=True)


def frame_stamps(out: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("*.png")}


def frames_written(log_dir: Path) -> Counter[str]:
    """How often each frame was reported written, over every batch log in ``log_dir``."""
    written: Counter[str] = Counter()
    for log in log_dir.glob("renderplus_*"):
        for line in log.read_text().splitlines():
            if line.startswith("RENDERPLUS> ") and '"frame"' in line:
                marker = json.loads(line[len("RENDERPLUS> "):])
                if marker.get("event") == "frame":
                    written[Path(marker["path"]).name] += 1
    return written


def job(scene: Path, out: Path, name: str, frames: int, trail: Path) -> dict[str, Any]:
    return {"name": name, "blend_file": str(scene), "output": str(out / f"{name}_"),
            "animated": True, "frame_start": 1, "frame_end": frames,
            "hooks": {"PRE_JOB": [{"cmd": f"echo pre {name} >> {trail}"}]}}


def batch(name: str, jobs: list[dict[str, Any]], trail: Path, **top: Any) -> dict[str, Any]:
    return {"version": 2.2, "name": name, "blender_bin": BLENDER, "settings": {"write_log": True},
            "hooks": {"PRE_BATCH": [{"cmd": f"echo batch {name} >> {trail}"}]},
            "jobs": [{"id": index, **each} for index, each in enumerate(jobs)], **top}


class QuittingBlender:
    """scripts/quitting_blender.py in ``python``: started, asked to quit, its answers."""

    def __init__(self, python: str, addon: Path, config: dict[str, Any], folder: Path) -> None:
        path = folder / "quitting.json"
        path.write_text(json.dumps({**config, "addon_parent": str(addon.parent)}))
        command = [python, str(SCRIPT), str(path)] if python != BLENDER else [
            BLENDER, "-b", "--factory-startup", "--python", str(SCRIPT), "--", str(path)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        self.started = self._line()

    def _line(self) -> dict[str, Any]:
        """The script's next JSON line (Blender prints its own lines around it)."""
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            assert line, f"the quitting Blender ended early (exit status {self.process.wait()})"
            if line.startswith("{"):
                data: dict[str, Any] = json.loads(line)
                return data

    def quit(self, how: str = "quit") -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{how}\n")
        self.process.stdin.flush()
        handed = self._line()
        assert self.process.wait(120) == 0
        return handed

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def quitting(tmp_path: Path) -> Iterator[Callable[..., QuittingBlender]]:
    started: list[QuittingBlender] = []

    def make(python: str, addon: Path, config: dict[str, Any]) -> QuittingBlender:
        started.append(QuittingBlender(python, addon, config, tmp_path))
        return started[-1]
    yield make
    for each in started:
        each.close()


def answers(port: int) -> bool:
    try:
        return call(port, "GET", "/test", auth=False).code == 200
    except OSError:
        return False


def server_log(handed: dict[str, Any]) -> str:
    return Path(handed["log"]).read_text()


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.parametrize("how, who", [("quit", "python"), ("crash", "python"), ("quit", "blender")])
def test_a_quitting_blender_hands_its_batch_and_queue_to_a_server_that_ends_by_itself(
        how: str, who: str, tmp_path: Path, blend_factory: Callable[..., Path], bare_python: str,
        installed_addon: Path, quitting: Callable[..., QuittingBlender],
        receiver: Receiver) -> None:  # noqa: F811 -- the fixture imported above
    scene = Path(shutil.copy(blend_factory(size=(96, 72), samples=100, frames=6),
                             tmp_path / "scene.blend"))
    out, work, trail = tmp_path / "out", tmp_path / "work", tmp_path / "trail"
    night = batch("night", [job(scene, out, "a", 6, trail)], trail, notifications={
        "webhook": {"enabled": True, "url": receiver.url(), "events": ["batch_end"]}})
    port = free_port()
    blender = quitting(bare_python if who == "python" else BLENDER, installed_addon, {
        "work_dir": str(work), "port": port, "blender": BLENDER, "batch": night,
        "queued": batch("later", [job(scene, out, "b", 2, trail)], trail)})
    token = blender.started["token"]
    assert token and blender.started["port"] == port
    wait_for(lambda: len(list(out.glob("a_*.png"))) >= 2, timeout=180, interval=0.05)

    handed = blender.quit(how)   # paused now, or left interrupted
    assert "error" not in handed, handed
    if who == "python":
        assert handed["python"] == bare_python             # "Blender's" own Python, no Bottle
    else:                                                   # the real Blender's sys.executable
        assert Path(handed["python"]).name.startswith("python3")
    assert token not in " ".join(handed["command"])        # never on a command line
    with BatchStore.open(work) as store:                   # what the paused batch recorded
        stored = store.latest()
        assert stored is not None
        assert stored.status.value == ("PAUSED" if how == "quit" else "RUNNING")
        recorded = {Path(f.path).name for item in store.frames(stored.id, 0).values()
                    for f in item.files}
    kept = {name: stamp for name, stamp in frame_stamps(out).items() if name in recorded}
    assert len(kept) >= 2

    server = handed["pid"]
    assert is_alive(server) and os.getpgid(server) == server   # a session of its own
    wait_for(lambda: answers(port), timeout=60)
    poll = call(port, "GET", "/batch", auth=False)             # the open poll stays open
    assert poll.code == 200 and poll.data["name"] in ("night", "later")
    extra = batch("extra", [job(scene, out, "c", 1, trail)], trail)
    refused = call(port, "POST", "/queue", extra, auth=False)
    assert refused.code == 401
    queued = call(port, "POST", "/queue", extra, headers={"Authorization": f"Bearer {token}"})
    assert queued.code == 201, queued.data                     # the token clients had works

    wait_for(lambda: not is_alive(server), timeout=300, interval=0.2)
    log = server_log(handed)
    assert "The handed-over batch and the queue are done: stopping" in log, log
    assert "Continuing the batch 'night'" in log and token not in log
    assert not token_path(port).exists()
    assert processes_with(str(scene)) == [] and processes_with(str(installed_addon)) == []
    assert not is_alive(blender.started["pid"]) and pids_in_group(server) == []

    assert sorted(frame_stamps(out)) == [*(f"a_000{i}.png" for i in range(1, 7)),
                                         "b_0001.png", "b_0002.png", "c_0001.png"]
    now = frame_stamps(out)
    assert {name: now[name] for name in kept} == kept           # same inode, same mtime
    written = frames_written(work / "log")
    assert len(written) == 9 and set(written.values()) == {1}, written
    lines = trail.read_text().splitlines()
    assert lines.count("pre a") == 2                           # PRE_JOB again
    assert lines.count("batch night") == (1 if how == "quit" else 2)   # an interrupted batch's too
    assert lines.count("pre b") == 1 and lines.count("pre c") == 1
    got = receiver.wait_for(1)
    assert [json.loads(r.body)["batch"]["name"] for r in got] == ["night"]  # the kept URL
    with BatchStore.open(work) as store:
        assert [b.status.value for b in store.history(3)] == ["FINISHED"] * 3
        assert store.claim("queue") is None


def test_a_port_still_held_is_waited_for(tmp_path: Path, installed_addon: Path) -> None:
    """The quitting Blender has ended but its port is still taken: the server says it waits,
    and listens once the port is free; with nothing to continue it stops at once."""
    work, port = tmp_path / "work", free_port()
    blender = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                               stdin=subprocess.PIPE)
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    try:
        handed = hand_over(work_dir=work, port=port, blender_pid=blender.pid,
                           python=sys.executable)
        assert blender.stdin is not None
        blender.stdin.close()
        blender.wait(30)
        log = handed.log_path
        wait_for(lambda: f"Port {port} on 127.0.0.1 is still in use" in log.read_text(),
                 timeout=60)
        assert is_alive(handed.pid)
    finally:
        holder.close()
    wait_for(lambda: not is_alive(handed.pid), timeout=60)
    text = log.read_text()
    assert f"listening on http://127.0.0.1:{port}" in text
    assert text.index("still in use") < text.index("listening on")
    assert "No paused or interrupted batch to continue" in text
    assert not token_path(port).exists()


def test_no_fitting_python_is_a_sentence_and_nothing_starts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "python3.9"
    old.write_text("#!/bin/sh\necho 3 9 1\n")
    old.chmod(0o755)
    monkeypatch.setattr(handover, "python_candidates", lambda: [str(old), "/nowhere/python3"])
    with pytest.raises(HandOverError) as raised:
        hand_over(work_dir=tmp_path / "work", port=free_port())
    text = str(raised.value)
    assert text.startswith("No Python can run the Render+ server")
    assert f"{old} is Python 3.9 (3.10 or newer is needed)" in text
    assert "/nowhere/python3 cannot be run" in text
    assert not (tmp_path / "work").exists()                 # no log, nothing started
    assert processes_with("--handed-over") == []


def test_a_server_that_cannot_start_is_a_sentence_and_is_ended(
        tmp_path: Path, bare_python: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Python that runs but cannot start the server is found before Blender exits: here one
    without Bottle for an add-on copy without the bundled wheel (the checkout may have fetched
    it), then a token no client could send."""
    monkeypatch.setattr(handover, "ADDON_DIR", copy_addon(tmp_path / "addons", with_wheel=False))
    with pytest.raises(HandOverError) as raised:
        hand_over(work_dir=tmp_path / "work", port=free_port(), python=bare_python)
    assert str(raised.value).startswith("The hand-over server did not start: server: The Render+ "
                                        "server needs Bottle"), raised.value
    monkeypatch.undo()
    with pytest.raises(HandOverError) as raised:
        hand_over(work_dir=tmp_path / "work", port=free_port(), token="bad\x01token",
                  python=sys.executable)
    assert "did not start: server: error: --token-fd: " in str(raised.value), raised.value
    assert processes_with("--handed-over") == []


def fake(tmp_path: Path, name: str, output: str) -> str:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\necho {output}\n")
    path.chmod(0o755)
    return str(path)


def test_the_first_python_of_3_10_that_reaches_bottle_is_chosen(tmp_path: Path) -> None:
    old = fake(tmp_path, "python3.8", "3 8 1")
    no_bottle = fake(tmp_path, "python3.11", "3 11 0")
    good = fake(tmp_path, "python3", "3 12 1")
    assert choose_python([old, no_bottle, good], bottle_bundled=False) == good
    assert choose_python([old, no_bottle, good], bottle_bundled=True) == no_bottle
    broken = fake(tmp_path, "python-broken", "hello")
    blender = fake(tmp_path, "blender", "3 11 1")               # never run with -c
    with pytest.raises(HandOverError) as raised:
        choose_python([broken, blender], bottle_bundled=True)
    assert f"{broken} is not a Python that runs -c" in str(raised.value)
    assert f"{blender} is not a Python program" in str(raised.value)


def test_the_candidates_are_blenders_python_then_python3_on_path(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", "/opt/blender/3.4/python/bin/python3.10")
    monkeypatch.setenv("PATH", str(tmp_path))
    fake(tmp_path, "python3", "3 11 1")
    assert handover.python_candidates() == ["/opt/blender/3.4/python/bin/python3.10",
                                            str(tmp_path / "python3")]
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python3"))
    assert handover.python_candidates() == [str(tmp_path / "python3")]


@pytest.mark.parametrize("argv, message", [
    (["--serve", "--token-fd", "3", "--token", "abc"], "--token-fd and --token (or $RENDERPLUS_TOKEN) "
                                                       "contradict each other"),
    (["--serve", "--handed-over", "0"], "--handed-over: a process id (got 0)"),
    (["--serve", "--handed-over", "12", "--recipe", "r.json"], "it loads no --recipe"),
    (["--poll", "--handed-over", "12"], "--handed-over is a --serve flag"),
    (["--recipe", "r.json", "--token-fd", "3"], "--token-fd is a --serve flag"),
])
def test_the_hand_over_flags_are_the_servers_own(argv: list[str], message: str) -> None:
    from renderplus.cli import build_parser, choose_mode
    from renderplus.cli.common import UsageError

    with pytest.raises(UsageError) as raised:
        choose_mode(build_parser().parse_args(argv))
    assert message in str(raised.value)


def test_a_token_on_a_pipe_is_read_and_checked(tmp_path: Path) -> None:
    from renderplus.cli.common import UsageError
    from renderplus.cli.handed_over import check_own_token, token_from

    read, write = os.pipe()
    os.write(write, b"s3cret-token\n")
    os.close(write)
    token, answer = token_from(read)
    answer()                                    # a pipe is not answered, only closed
    assert token == "s3cret-token"
    with pytest.raises(OSError):
        os.fstat(read)
    with pytest.raises(UsageError, match="contradict"):
        check_own_token("s3cret-token", no_token=True)
    with pytest.raises(UsageError, match="--token-fd: "):
        check_own_token("two words\n", no_token=False)
