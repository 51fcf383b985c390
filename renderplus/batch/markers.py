"""The machine-readable lines that Render+'s override script prints inside Blender.

Blender's own progress text changes between versions; these lines do not. The override script
(see ``command.py``) prints one line per event on stdout, the parser (``parser/lines.py``) reads them.
A line is ``MARKER_PREFIX`` followed by a JSON object with an ``event`` key:

- ``{"event": "ready", "engine": "CYCLES", "scene": "Scene", "frames": "1-3",
  "samples": 128, "blender": "3.4.1", "camera": "Camera", "layers": ["ViewLayer", "Fg"]}``:
  overrides applied, rendering begins. ``frames`` is a range spec (``FrameSet.to_spec()``;
  older scripts sent a list of frames, still read). ``samples`` is null for engines without a sample
  count; ``layers`` names the view layers each frame renders, in order (those with ``use``
  on, after the job's ``layer`` override): several mean the samples restart per layer.
  It also names what a frame's render time depends on (``resolution`` ``[x, y, percent]``,
  ``border``: the border's share of the frame or null, ``device``, ``threads``) and ``file``:
  the same facts of the scene before the job's overrides (the run history's, ``run_record``).
- ``{"event": "frame", "frame": 3, "path": "/abs/out_0003.png", "seconds": 2.41}``: a frame
  was written; ``seconds``: its own render time (from Blender's ``render_pre`` to the file). It
  may add ``files`` (File Output nodes' files) and, for a frame a browser cannot show,
  ``preview``: the scene's colour management, for its preview (``frame_reader``).
- ``{"event": "error", "message": "Camera 'Cam2' not found in scene 'Scene'"}``: the job
  cannot render as asked; the script then exits with ``OVERRIDE_EXIT_CODE``.

A job asked to pause after the frame (``pause``: its stop file exists) exits with
``PAUSED_EXIT_CODE`` right after the frame marker of the frame it wrote.
"""

from __future__ import annotations

import json
from typing import Any

MARKER_PREFIX = "RENDERPLUS> "
OVERRIDE_EXIT_CODE = 17
PAUSED_EXIT_CODE = 75   # EX_TEMPFAIL: stopped on request, the rest renders later


def format_marker(event: str, **fields: Any) -> str:
    """One marker line (without newline), as the override script prints it."""
    return MARKER_PREFIX + json.dumps({"event": event, **fields}, separators=(",", ":"))


_DECODER = json.JSONDecoder()


def parse_marker(line: str) -> dict[str, Any] | None:
    """The marker's JSON object, or None when the line is not a well-formed marker."""
    if not line.startswith(MARKER_PREFIX):
        return None
    try:  # the object, and nothing after it but what another thread printed into the line
        payload, _ = _DECODER.raw_decode(line, len(MARKER_PREFIX))
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        return None
    return payload
