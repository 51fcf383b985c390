"""Runs inside the frame reader: a helper Blender that reads the frames another Blender wrote.

The engine (batch/frame_reader.py) starts ``blender -b --factory-startup --python
read_frames.py -- --renderplus-reader`` with the very binary that rendered the frames, once, on
first need, and writes one JSON request a line on stdin; each gets one answer line on stdout,
``RENDERPLUS> {"event": "answer", "id": N, "ok": true, ...}`` (Blender's own lines around it are
ignored). Why a Blender and not an image library: docs/blender.md, Reading frames outside the
rendering Blender. Requests:

- ``{"id": N, "op": "preview", "frame": PATH, "look": {...} | null, "longest": 320}``: the
  frame's JPEG preview (previews.py), answered with ``"preview": PATH`` (null: none needed).
- ``{"id": N, "op": "check", "frame": PATH, "black": bool, "nan": bool, "structure": true}``:
  the frame read back whole (frame_checks.py; ``"structure": false`` skips that for a file the
  caller just found whole), then decoded in full by Blender and its pixels judged
  (pixel_checks.py), answered with ``"problem": SENTENCE`` (null: it is fine).

An unknown ``op`` or a request that fails is answered ``"ok": false, "error": "..."``; the
reader goes on. It quits when stdin closes (Render+ ended it, or died). Standard library and
bpy only (Blender 2.80 to 5.x).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the scripts beside this one
import pixel_checks
import previews

PREFIX = "RENDERPLUS> "  # markers.MARKER_PREFIX (a test keeps them equal)
READER_FLAG = "--renderplus-reader"


def emit(event: str, **fields: Any) -> None:
    fields["event"] = event
    sys.stdout.write(PREFIX + json.dumps(fields) + "\n")
    sys.stdout.flush()


def preview(request: dict[str, Any]) -> dict[str, Any]:
    look = request.get("look")
    path = previews.make_preview(str(request["frame"]), look if isinstance(look, dict) else None,
                                 longest=int(request.get("longest") or previews.PREVIEW_SIZE))
    return {"preview": path}


def check(request: dict[str, Any]) -> dict[str, Any]:
    problem = pixel_checks.check_pixels(str(request["frame"]), black=bool(request.get("black")),
                                        nan=bool(request.get("nan")),
                                        structure=request.get("structure", True) is not False)
    return {"problem": problem}


OPERATIONS = {"preview": preview, "check": check}


def answer(line: str) -> None:
    request_id = None
    try:
        request = json.loads(line)
        request_id = request.get("id")
        operation = OPERATIONS.get(request.get("op"))
        if operation is None:
            raise ValueError(f"unknown request {request.get('op')!r}")
        emit("answer", id=request_id, ok=True, **operation(request))
    except Exception as exc:  # one request failed: say so, read the next
        emit("answer", id=request_id, ok=False, error=f"{type(exc).__name__}: {exc}")


def main() -> None:
    emit("reader_ready", blender=bpy.app.version_string)
    while True:
        line = sys.stdin.readline()
        if not line:
            return  # Render+ closed the pipe (or died): the reader ends
        if line.strip():
            answer(line)


if __name__ == "__main__":
    main()
