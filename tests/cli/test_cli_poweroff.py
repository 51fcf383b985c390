"""``--recipe`` with a power action: the CLI waits out the announced grace period, and Ctrl+C
calls the action off. The power commands on PATH are stand-ins that only record their call, so
nothing here can power the machine off (and the grace period is 60 s besides)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.stand_ins import one_frame_blender

ROOT = Path(__file__).resolve().parents[2]


def stand_in(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_ctrl_c_during_the_grace_period_calls_the_power_action_off(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    called = tmp_path / "power-called"
    for name in ("systemctl", "loginctl", "shutdown", "pmset", "osascript"):
        stand_in(bin_dir / name, f'echo "{name} $*" >> {called}')
    one_frame_blender(bin_dir / "fake-blender", tmp_path / "out_0001.png")
    blend = tmp_path / "scene.blend"
    blend.write_bytes(b"BLENDER-v304")
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({
        "version": 2.2, "name": "power test", "blender_bin": str(bin_dir / "fake-blender"),
        "poweroff": {"enabled": True, "action": "POWEROFF"},
        "jobs": [{"id": 0, "blend_file": str(blend)}]}))
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen([sys.executable, "-m", "renderplus.server", "--recipe", str(recipe)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    assert process.stdout is not None
    lines = []
    deadline = time.time() + 60
    for line in process.stdout:
        lines.append(line)
        if "press Ctrl+C to call it off" in line or time.time() > deadline:
            break
    assert any(line.startswith("POWEROFF in ") for line in lines), lines
    with pytest.raises(subprocess.TimeoutExpired):  # still waiting out the grace period
        process.wait(0.5)
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=30)
    assert "Power action called off." in rest
    assert process.returncode == 0
    assert not called.exists()
