"""Checks rendered frames on a farm node: ``blender -b --factory-startup --python
check_frames.py -- [--black] [--nan] FILE...``, or ``... -- [--black] [--nan] --from-log LOG``:
the files a render named in its frame markers in LOG (a farm task's output, read once its
Blender has exited: the task checks the frames it wrote).

Each file is read back whole (``frame_checks.check_file``, waiting a little for one a network
disk shows late), then decoded by this Blender (``pixel_checks.check_pixels``: uniformly black
with ``--black``, NaN or infinite values with ``--nan``). One marker line per file,
``RENDERPLUS> {"event": "frame_checked", "path": PATH, "problem": SENTENCE | null}`` (with
``frame`` when read from a log), in the format of a render's markers (batch/markers.py). The
exit status is 0 when every file passed, 1 otherwise (2: bad arguments). Standard library and
bpy only (Blender 2.80 to 5.x).
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
USAGE = ("usage: blender -b --python check_frames.py -- [--black] [--nan] FILE... "
         "| --from-log LOG")


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


def logged_files(log: str) -> list[tuple[int | None, str]]:
    """(frame, path) of every file the frame markers in ``log`` name, in order, each once: a
    frame's File Output files, then its image (last, so that a reader taking the image's
    verdict as the frame's has seen every file of it)."""
    found: list[tuple[int | None, str]] = []
    seen: set[str] = set()
    with open(log, encoding="utf-8", errors="replace") as stream:
        for line in stream:
            if not line.startswith(PREFIX):
                continue
            try:
                marker = json.loads(line[len(PREFIX):])
            except ValueError:
                continue
            if not isinstance(marker, dict) or marker.get("event") != "frame":
                continue
            frame = marker.get("frame") if isinstance(marker.get("frame"), int) else None
            files = marker.get("files")
            for path in [*(files if isinstance(files, list) else []), marker.get("path")]:
                if isinstance(path, str) and path not in seen:
                    seen.add(path)
                    found.append((frame, path))
    return found


def main(argv: list[str]) -> int:
    args = argv[argv.index("--") + 1:] if "--" in argv else []
    log = None
    if "--from-log" in args:
        at = args.index("--from-log")
        log = args[at + 1] if at + 1 < len(args) else None
        args = args[:at] + args[at + 2:]
        if log is None:
            print(USAGE, file=sys.stderr, flush=True)
            return 2
    flags = {arg for arg in args if arg.startswith("--")}
    files: list[tuple[int | None, str]] = [(None, arg) for arg in args if not arg.startswith("--")]
    if flags - {"--black", "--nan"} or (not files and log is None) or (files and log):
        print(USAGE, file=sys.stderr, flush=True)
        return 2
    if log is not None:
        try:
            files = logged_files(log)
        except OSError as exc:
            print(f"check_frames: cannot read {log}: {exc}", file=sys.stderr, flush=True)
            return 2
    failed = 0
    for frame, path in files:
        problem = check_one(path, black="--black" in flags, nan="--nan" in flags)
        fields: dict[str, Any] = {"path": path, "problem": problem}
        if frame is not None:
            fields["frame"] = frame
        emit("frame_checked", **fields)
        failed += problem is not None
    return 1 if failed else 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    os._exit(code)  # Blender's own exit would turn every status into 0
