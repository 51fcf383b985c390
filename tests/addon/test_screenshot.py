"""scripts/screenshot_panel.py end to end: GUI Blender 3.4 under Xvfb with the legacy add-on,
timers firing, the panels drawing a running batch without a Python error, a PNG saved."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.addon.helpers import ROOT

pytestmark = [pytest.mark.blender, pytest.mark.slow]


def test_the_screenshot_script_captures_a_running_batch(tmp_path: Path) -> None:
    if shutil.which("xvfb-run") is None or shutil.which("blender") is None:
        pytest.skip("needs xvfb-run and the blender executable")
    out = tmp_path / "panel.png"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshot_panel.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=420)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Render+ tab shown" in proc.stdout
    assert "'RUNNING'" in proc.stdout and "'FAILED'" in proc.stdout  # the first job fails, readably
    header = out.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1600, 900)


def test_the_screenshot_script_captures_a_paused_batch_and_a_queue(tmp_path: Path) -> None:
    """``--queue``: two batches queued behind one paused "now" (the real service), in a
    sidebar dragged wider so that the queue's labels are not cut."""
    if shutil.which("xvfb-run") is None or shutil.which("blender") is None:
        pytest.skip("needs xvfb-run and the blender executable")
    out = tmp_path / "panel-queue.png"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshot_panel.py"), "--queue",
                           "--out", str(out)], capture_output=True, text=True, timeout=420)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SHOT status PAUSED; queue: [(1, " in proc.stdout and ", 4), (2, " in proc.stdout
    assert "SHOT sidebar widened from " in proc.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_screenshot_script_captures_estimates_from_a_first_batchs_runs(tmp_path: Path) -> None:
    """``--estimates`` (GUI Blender 3.4, so the legacy add-on draws the estimates too): a first
    batch renders to its end, then the queue behind the second one has an estimated end."""
    if shutil.which("xvfb-run") is None or shutil.which("blender") is None:
        pytest.skip("needs xvfb-run and the blender executable")
    out = tmp_path / "panel-estimates.png"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshot_panel.py"), "--estimates",
                           "--out", str(out)], capture_output=True, text=True, timeout=420)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SHOT history made: [" in proc.stdout and "'FINISHED'" in proc.stdout
    assert "SHOT status RUNNING; queue: [(1, " in proc.stdout and "; ends None" not in proc.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
