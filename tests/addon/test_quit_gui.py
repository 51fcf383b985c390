"""Quitting Blender during a batch never loses it (GUI Blender under Xvfb, 3.4 and 5.2): the quit
is an interruption, never a cancel. With "pause it" the reopened Blender offers Resume and
renders only the missing frames; with "keep rendering in the background" a standalone server
renders on with Blender closed and stops by itself, and the reopened Blender shows the batch
finished. The frames verified before the quit keep their inode and mtime."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.store import BatchStore
from renderplus.batch.view import BatchStatus
from tests.addon.helpers import ROOT, SCRIPTS, parse_result
from tests.ports import free_port
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]
FRAMES = 12
SCREEN = "1280x800x24"


def blenders() -> list[Any]:
    """3.4 (Debian's) and 5.2 where the suite has it (its quit also calls ``exit_pre``)."""
    found = [pytest.param(shutil.which("blender") or "blender", id="3.4")]
    for path in os.environ.get("RENDERPLUS_TEST_BLENDERS", "").split(os.pathsep):
        if path and "sid" in path:
            found.append(pytest.param(path, id="5.2"))
    return found


class Machine:
    """One artist's machine for a test: its own state, config and Blender user folders."""

    def __init__(self, tmp_path: Path, blender: str) -> None:
        if shutil.which("xvfb-run") is None:
            pytest.skip("needs xvfb-run")
        self.work, self.blender, self.port = tmp_path, blender, free_port()
        self.env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"),
                    "XDG_CONFIG_HOME": str(tmp_path / "config"),
                    "BLENDER_USER_CONFIG": str(tmp_path / "blender-config"),
                    "BLENDER_USER_SCRIPTS": str(tmp_path / "blender-scripts"),
                    "PYTHONDONTWRITEBYTECODE": "1"}
        self.env.pop("RENDERPLUS_TOKEN", None)

    def args(self, step: str, **more: Any) -> str:
        return json.dumps({"step": step, "root": str(ROOT), "work": str(self.work), "frames": FRAMES,
                           "port": self.port, **more})

    def quit_during_a_batch(self, on_quit: str, server: bool = False) -> dict[str, Any]:
        """GUI Blender renders, quits once frames are verified; what it saw before quitting."""
        command = ["xvfb-run", "-a", "-s", f"-screen 0 {SCREEN}", self.blender, "--factory-startup",
                   "--python", str(SCRIPTS / "quit_scenario.py"), "--",
                   self.args("quit", on_quit=on_quit, server=server)]
        proc = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=300)
        seen = parse_result(proc, "quit_scenario.py (GUI)")
        assert proc.returncode == 0, proc.stderr[-3000:]
        return seen

    def reopen(self, resume: bool = False) -> dict[str, Any]:
        proc = subprocess.run([self.blender, "-b", "--factory-startup", "--python-exit-code", "1",
                               "--python", str(SCRIPTS / "quit_scenario.py"), "--",
                               self.args("reopen", resume=resume)],
                              env=self.env, capture_output=True, text=True, timeout=400)
        return parse_result(proc, "quit_scenario.py (reopened)")

    def stored_status(self) -> BatchStatus:
        with BatchStore.open(self.work / "state" / "renderplus") as store:
            latest = store.latest()
            assert latest is not None
            return latest.status


@pytest.mark.parametrize("blender", blenders())
def test_a_quit_with_pause_it_offers_resume_and_renders_only_the_missing_frames(
        tmp_path: Path, blender: str) -> None:
    machine = Machine(tmp_path, blender)
    seen = machine.quit_during_a_batch("PAUSE")
    assert seen["status_before_quit"] == "RUNNING" and len(seen["verified"]) >= 2
    assert machine.stored_status() is BatchStatus.PAUSED          # not CANCELLED
    assert not [line for line in _processes() if str(tmp_path) in line]  # no Blender left

    reopened = machine.reopen(resume=True)
    assert reopened["status"] == "PAUSED" and reopened["paused"], reopened
    assert reopened["resumed"] == ["FINISHED"] and reopened["ended"], reopened
    assert reopened["status_after"] == "FINISHED", reopened["messages"]
    frames = reopened["frames"]
    assert len(frames) == FRAMES
    assert {name: frames[name] for name in seen["verified"]} == seen["verified"]  # inode, mtime


def _processes() -> list[str]:
    """Every process's command line (a quit must leave none of this test's behind)."""
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
    return lines



@pytest.mark.parametrize("blender", blenders())
def test_a_quit_with_keep_rendering_finishes_the_batch_with_blender_closed(
        tmp_path: Path, blender: str) -> None:
    machine = Machine(tmp_path, blender)
    seen = machine.quit_during_a_batch("KEEP", server=True)
    assert seen["status_before_quit"] == "RUNNING" and len(seen["verified"]) >= 2
    # Blender has ended; the server it handed the batch to renders on, on the same port, and
    # stops by itself once done (it may be done before this test could poll it: its log says)
    log = tmp_path / "state" / "renderplus" / "log" / "handed-over-server.log"
    try:
        wait_for(lambda: log.exists() and "Server stopped" in log.read_text(), timeout=300, interval=0.2)
    except AssertionError:
        pytest.fail(f"the handed-over server did not finish; its log: "
                    f"{log.read_text()[-3000:] if log.exists() else 'none'}")
    said = log.read_text()
    assert f"handed over by pid {seen['pid']}" in said and f"--port {machine.port}" in said
    assert "Batch FINISHED" in said, said
    assert machine.stored_status() is BatchStatus.FINISHED
    record = tmp_path / "config" / "renderplus" / "servers" / f"{machine.port}.json"
    assert not record.exists()                       # its token file went with it
    wait_for(lambda: not [line for line in _processes() if str(tmp_path) in line], timeout=30)

    reopened = machine.reopen()
    assert reopened["status"] == "FINISHED" and not reopened["interrupted"], reopened
    frames = reopened["frames"]
    assert len(frames) == FRAMES
    assert {name: frames[name] for name in seen["verified"]} == seen["verified"]  # inode, mtime
