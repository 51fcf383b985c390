"""A stand-in Blender whose frames wait for the test, for the tests of when to render.

Real Blender cannot be held between two frames; this one renders each frame it is asked for
(``-f N`` or ``-s A -e B``) only once the test opens that frame's gate (a file), writes a
whole PNG, prints the frame marker, and then, like the job script, exits with the paused code
when the stop file of a pause "after the frame" exists. Every frame it writes is logged, so a
test sees that no frame rendered twice.
"""

from __future__ import annotations

import stat
import sys
import textwrap
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from renderplus.batch.markers import PAUSED_EXIT_CODE, format_marker
from tests.frames import PNG  # a whole PNG: frames are checked

SUMMER_DAY = date(2026, 6, 10)   # no clock change near it in any zone with one


def at(clock: str, day: date = SUMMER_DAY, days: int = 0) -> float:
    """The epoch time of a local wall-clock time ``days`` after ``day``."""
    hours, minutes = map(int, clock.split(":"))
    when = day + timedelta(days=days)
    return datetime(when.year, when.month, when.day, hours, minutes).timestamp()


class GatedBlender:
    """The stand-in's script, its gates, its output folder and its log."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.gates = folder / "gates"
        self.out = folder / "out"
        self.log = folder / "rendered"
        self.gates.mkdir(parents=True, exist_ok=True)
        self.out.mkdir(parents=True, exist_ok=True)
        (folder / "scene.blend").write_bytes(b"BLENDER")
        marker = format_marker("frame", frame=0, path="PATH")
        self.path = self._script(f"""
            args = sys.argv
            if "-f" in args:
                frames = [int(args[args.index("-f") + 1])]
            else:
                frames = range(int(args[args.index("-s") + 1]), int(args[args.index("-e") + 1]) + 1)
            stop = os.environ.get("RENDERPLUS_STOP_FILE", "")
            for frame in frames:
                while not os.path.exists(os.path.join({str(self.gates)!r}, str(frame))):
                    time.sleep(0.01)
                path = os.path.join({str(self.out)!r}, "f_%04d.png" % frame)
                open(path, "wb").write({PNG!r})
                open({str(self.log)!r}, "a").write("%d\\n" % frame)
                print({marker!r}.replace('"frame":0', '"frame":%d' % frame).replace("PATH", path),
                      flush=True)
                if stop and os.path.exists(stop):
                    sys.exit({PAUSED_EXIT_CODE})
            sys.exit(0)
        """)

    def _script(self, body: str) -> str:
        path = self.folder / "gated-blender"
        path.write_text(f"#!{sys.executable}\nimport os, sys, time\n" + textwrap.dedent(body))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return str(path)

    def open(self, *frames: int) -> None:
        for frame in frames:
            (self.gates / str(frame)).touch()

    def rendered(self) -> Counter[int]:
        """How often each frame was written."""
        if not self.log.exists():
            return Counter()
        return Counter(int(line) for line in self.log.read_text().split())

    def recipe(self, frames: int = 4, trail: Path | None = None, **top: Any) -> dict[str, Any]:
        """One animated job of ``frames`` frames on this stand-in; ``trail``: PRE_BATCH and
        PRE_JOB hooks write there."""
        data: dict[str, Any] = {
            "version": 2.2, "name": "scheduled", "blender_bin": self.path,
            "settings": {"session_reuse": False},
            "jobs": [{"id": 0, "name": "job0", "blend_file": str(self.folder / "scene.blend"),
                      "output": str(self.out / "f_"), "animated": True, "frame_start": 1,
                      "frame_end": frames}]}
        if trail is not None:
            data["hooks"] = {"PRE_BATCH": [{"cmd": f"echo batch >> {trail}"}]}
            data["jobs"][0]["hooks"] = {"PRE_JOB": [{"cmd": f"echo job >> {trail}"}]}
        settings = top.pop("settings", {})
        data["settings"].update(settings)
        data.update(top)
        return data
