"""Checks rendered frames on a farm node: ``blender -b --factory-startup --python
check_frames.py -- [--black] [--nan] FILE...``.

Each file is read back whole (``frame_checks.check_file``, waiting a little for one a network
disk shows late), then decoded by this Blender (``pixel_checks.check_pixels``: uniformly black
with ``--black``, NaN or infinite values with ``--nan``). One marker line per file,
``RENDERPLUS> {"event": "frame_checked", "path": PATH, "problem": SENTENCE | null}``, in the
format of a render's markers (batch/markers.py). The exit status is 0 when every file passed,
1 otherwise (2: bad arguments). Standard library and bpy only (Blender 2.80 to 5.x).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the scripts beside this one
import frame_checks
import pixel_checks

PREFIX = "RENDERPLUS> "  # markers.MARKER_PREFIX (a test keeps them equal)
USAGE = "usage: blender -b --python check_frames.py -- [--black] [--nan] FILE..."


def emit(event: str, **fields: Any) -> None:
    fields["event"] = event
    sys.stdout.write(PREFIX + json.dumps(fields) + "\n")
    sys.stdout.flush()


def check_one(path: str, *, black: bool, nan: bool) -> str | None:
    """The file's structure first (cheap, and says precisely what is cut), then its pixels."""
    problem = frame_checks.check_settled(path)
    if problem is None:
        try:
            problem = pixel_checks.check_pixels(path, black=black, nan=nan, structure=False)
        except Exception as exc:  # Blender refused it in a way of its own
            problem = f"Blender could not read {os.path.basename(path)}: {exc}"
    return problem


def main(argv: list[str]) -> int:
    args = argv[argv.index("--") + 1:] if "--" in argv else []
    flags = {arg for arg in args if arg.startswith("--")}
    files = [arg for arg in args if not arg.startswith("--")]
    if flags - {"--black", "--nan"} or not files:
        print(USAGE, file=sys.stderr, flush=True)
        return 2
    failed = 0
    for path in files:
        problem = check_one(path, black="--black" in flags, nan="--nan" in flags)
        emit("frame_checked", path=path, problem=problem)
        failed += problem is not None
    return 1 if failed else 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    os._exit(code)  # Blender's own exit would turn every status into 0
