"""The add-on in a real GUI Blender 4.3 and 5.2 under Xvfb (3.4 runs it as a legacy add-on in
tests/addon/test_screenshot.py): the built zip installed as an extension by that Blender's own
command line, jobs added from the panel, Render with that same Blender as the job binary,
progress and thumbnails while it renders, the batch's end, and no Python error on the console
(``scripts/screenshot_panel.py --extension`` fails on any traceback)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.addon.helpers import ROOT
from tests.versions.conftest import BlenderUnderTest

pytestmark = [pytest.mark.blender, pytest.mark.slow]


def test_the_extension_renders_a_batch_from_the_panel(blender: BlenderUnderTest, tmp_path: Path) -> None:
    if blender.version.name == "3.4":
        pytest.skip("3.4 has no extensions: its legacy add-on is tested in tests/addon")
    if shutil.which("xvfb-run") is None:
        pytest.skip("needs xvfb-run")
    out = tmp_path / "panel.png"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshot_panel.py"), "--extension",
                           "--blender", blender.path, "--out", str(out)],
                          capture_output=True, text=True, timeout=480)
    said = proc.stdout + proc.stderr
    assert proc.returncode == 0, said
    assert f"SHOT extension installed by {blender.path}: exit 0" in said
    assert "'Cam Top', 'RUNNING'" in said            # the screenshot shows it rendering
    end = re.search(r"SHOT end (\w+): (.*); thumbnails (\d+)", said)
    assert end is not None, said
    assert end.group(1) == "FINISHED"
    assert "('Cam Top', 'FINISHED', 6)" in end.group(2) and "('Cam Left', 'FAILED', 0)" in end.group(2)
    assert int(end.group(3)) >= 1                     # last-frame thumbnails were read
    header = out.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", header[16:24]) == (1600, 900)
