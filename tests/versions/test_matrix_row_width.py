"""The job list at the sidebar's default width, in GUI Blender under Xvfb, measured in pixels:
each job's name drawn in full, as wide as Blender's own ``blf`` says the name is in the UI's
font, size and scale (issue: at the default width every row read "Ca" in 3.4, "C..." in 5.2,
and a running job's "12.7%" read "12.").

``tests/addon/scripts/row_width_gui.py`` runs inside Blender: the add-on loaded from this
repository, four jobs with a batch's states in their rows, the theme's list text in pure magenta,
the default sidebar opened on the Render+ tab, then a copy of Xvfb's screen (an XWD file). Here
the magenta pixels of each list row are grouped into runs (a gap wider than a space ends one);
the name is the widest run.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import ROOT, SCRIPTS
from tests.versions.conftest import BlenderUnderTest

pytestmark = [pytest.mark.blender, pytest.mark.slow]
RESULT_PREFIX = "RENDERPLUS_TEST_RESULT "
GAP = 6   # px: wider than a space in the UI font at scale 1 (the name's words stay one run)
TOLERANCE = 2  # px: anti-aliased edges too faint to count as magenta
LINE_GAP = 3  # px: blank rows within one line of text (lines are further apart)
TAIL, DOT_HEIGHT = 6, 4  # px: an ellipsis's last columns, and the most a dot's ink spans


def read_xwd(path: Path) -> tuple[int, int, bytes, int]:
    """(width, height, pixels, bytes per line) of a 24-bit XWD file as Xvfb's -fbdir keeps it."""
    data = path.read_bytes()
    fields = struct.unpack(">25I", data[:100])
    header_size, width, height, bits, line, colors = (fields[0], fields[4], fields[5], fields[11],
                                                      fields[12], fields[19])
    assert bits == 32, f"expected 32 bits per pixel, got {bits}"
    start = header_size + 12 * colors
    return width, height, data[start:start + line * height], line


def magenta(pixels: bytes, offset: int) -> bool:
    """Xvfb's pixels are B, G, R, pad; magenta text (anti-aliased into any background)."""
    blue, green, red = pixels[offset], pixels[offset + 1], pixels[offset + 2]
    return red > 90 and blue > 90 and green * 2 < min(red, blue)


@dataclass
class Run:
    """One run of magenta text in a line: its first column, width, and its pixels' rows per
    column (what says whether it ends in an ellipsis)."""

    start: int
    width: int = 1
    rows: dict[int, list[int]] = field(default_factory=dict)

    def ends_in_ellipsis(self) -> bool:
        """A cut name ends in dots: its last ``TAIL`` columns are ink only a dot high, on the
        baseline (every letter a name ends in is taller)."""
        tail = [y for x, ys in self.rows.items() if x >= self.start + self.width - TAIL for y in ys]
        return max(tail) - min(tail) < DOT_HEIGHT


def text_runs(shot: Path, left: int, right: int, top: int, bottom: int) -> list[list[Run]]:
    """Per line of magenta text between screen rows ``top``..``bottom`` (top down), its runs;
    a run ends at a gap wider than ``GAP``."""
    _width, _height, pixels, line = read_xwd(shot)
    lines: list[dict[int, list[int]]] = []
    last_ink = -LINE_GAP - 1
    for y in range(top, bottom):
        columns = [x for x in range(left, right) if magenta(pixels, y * line + 4 * x)]
        if not columns:
            continue
        if y - last_ink > LINE_GAP:  # an underscore's row apart from its letters stays theirs
            lines.append({})
        last_ink = y
        for x in columns:
            lines[-1].setdefault(x, []).append(y)
    result = []
    for ink in lines:
        runs: list[Run] = []
        for x in sorted(ink):
            if runs and x - (runs[-1].start + runs[-1].width) <= GAP:
                runs[-1].width = x - runs[-1].start + 1
            else:
                runs.append(Run(x))
            runs[-1].rows[x] = ink[x]
        result.append(runs)
    return result


def own_env() -> dict[str, str]:
    """This process's environment less the suite's own settings (with $RENDERPLUS_TEST_BLENDERS
    set, GUI Blender 5.2 under Xvfb died of a bus error before it ran the script)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("RENDERPLUS_")}


def run_gui(blender: str, work: Path, retried: bool = False) -> tuple[dict[str, Any], Path]:
    (work / "fb").mkdir(parents=True)
    out = work / "screen.xwd"
    config = {"root": str(ROOT), "framebuffer": str(work / "fb" / "Xvfb_screen0"), "out": str(out)}
    env = {"BLENDER_USER_CONFIG": str(work / "config"), "BLENDER_USER_SCRIPTS": str(work / "scripts"),
           "BLENDER_USER_RESOURCES": str(work / "resources"), "XDG_STATE_HOME": str(work / "state")}
    proc = subprocess.run(["xvfb-run", "-a", "-s", f"-screen 0 1600x1200x24 -fbdir {work / 'fb'}", blender,
                           "--factory-startup", "--enable-event-simulate", "--python",
                           str(SCRIPTS / "row_width_gui.py"), "--", json.dumps(config)],
                          env={**own_env(), **env}, capture_output=True, text=True, timeout=300)
    said = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if not said and proc.returncode == 135 and not retried:
        # GUI Blender 5.2 under Xvfb now and then dies of a bus error as it starts, before it
        # runs the script: one more try
        shutil.rmtree(work)
        return run_gui(blender, work, retried=True)
    assert said, f"exit {proc.returncode}: {proc.stdout[-4000:]}{proc.stderr[-4000:]}"
    result: dict[str, Any] = json.loads(said[-1][len(RESULT_PREFIX):])
    assert "error" not in result, result["error"]
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-4000:] + proc.stderr[-4000:]
    return result, out


@pytest.fixture(scope="module")
def gui(blender: BlenderUnderTest, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    if shutil.which("xvfb-run") is None:
        pytest.skip("needs xvfb-run")
    return run_gui(blender.path, tmp_path_factory.mktemp(f"gui-{blender.version.name}"))


def test_every_job_name_is_drawn_in_full_at_the_default_sidebar_width(
        blender: BlenderUnderTest, gui: tuple[dict[str, Any], Path]) -> None:
    result, shot = gui
    window_height = result["window"][1]
    x, y, width, height = result["region"]
    # the list's rows are the first magenta lines from the sidebar's top (window y is bottom-up)
    lines = text_runs(shot, x, x + width, window_height - (y + height), window_height - y)
    names = result["rows"]
    assert len(lines) >= len(names), lines
    runs = {name: max(line, key=lambda run: run.width) for name, line in zip(names, lines, strict=False)}
    drawn = {name: run.width for name, run in runs.items()}
    cut = [name for name, run in runs.items() if run.ends_in_ellipsis()]
    print(f"Blender {blender.full_version}: sidebar {width} px at UI scale {result['ui_scale']:.2f}; "
          f"name widths needed (blf) {result['needed']}, drawn {drawn}, cut {cut}")
    assert not cut, (cut, drawn, result["needed"])
    for name in names:
        assert drawn[name] >= result["needed"][name] - TOLERANCE, (name, drawn, result["needed"])


def first_difference(one: Path, other: Path, left: int, right: int, top: int, bottom: int) -> int:
    """The first screen row (top down) between ``top`` and ``bottom`` where the magenta text of
    two shots differs (the region's scroll bar differs as well: not text)."""
    _w, _h, pixels, line = read_xwd(one)
    _w, _h, others, _line = read_xwd(other)
    for y in range(top, bottom):
        ink = [x for x in range(left, right) if magenta(pixels, y * line + 4 * x)]
        if ink != [x for x in range(left, right) if magenta(others, y * line + 4 * x)]:
            return y
    raise AssertionError("the shots with and without the message do not differ")


def test_a_failed_jobs_message_wraps_without_a_cut_line(blender: BlenderUnderTest,
                                                         gui: tuple[dict[str, Any], Path]) -> None:
    """The Job panel wraps why the job failed at the width the text is drawn (measured with
    blf): no line of a message full of quotes and capitals is cut short with an ellipsis."""
    result, shot = gui
    window_height = result["window"][1]
    x, y, width, height = result["region"]
    top, bottom = window_height - (y + height), window_height - y
    message, plain = Path(f"{shot}.message"), Path(f"{shot}.plain")
    start = first_difference(message, plain, x, x + width, top, bottom)
    expected = result["message_lines"]
    lines = text_runs(message, x, x + width, start, bottom)[:len(expected)]
    drawn = [line[-1].start + line[-1].width - line[0].start for line in lines]
    cut = [text for text, line in zip(expected, lines, strict=False) if line[-1].ends_in_ellipsis()]
    print(f"Blender {blender.full_version}: room {result['line_room']:.0f} px; lines {expected}; "
          f"drawn {drawn} px; cut {cut}")
    assert len(lines) == len(expected) and not cut, (cut, expected, drawn)
