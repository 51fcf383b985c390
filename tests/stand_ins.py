"""Stand-in programs the tests write: the faults and shortcuts a real Blender cannot give on
demand (a real Blender renders in the tests that prove rendering works)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.frames import PNG


def one_frame_blender(path: Path, frame: Path) -> Path:
    """A ``blender`` at ``path`` that writes ``frame`` and prints the job script's marker for it,
    as a job of frame 1 would: enough for a batch to end FINISHED without rendering."""
    marker = json.dumps({"event": "frame", "frame": 1, "path": str(frame)})
    image = path.with_name(path.name + ".png")   # a whole PNG to copy: frames are checked
    image.write_bytes(PNG)
    path.write_text(f"#!/bin/sh\ncp '{image}' '{frame}'\necho 'RENDERPLUS> {marker}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path
