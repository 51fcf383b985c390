"""A frame a job wrote (its marker read by the job loop): verified, recorded, listed, previewed.

The job loop hands each frame marker here: the frame's files are verified and recorded in the
store (``StoreWriter.frame``; only whole files count as done), listed in the job's outputs file
for its hooks (``RENDERPLUS_OUTPUTS_FILE``), and a verified frame a browser cannot show gets its
preview asked for (``frame_previews``; never waits).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from .jobstate import JobState
from .store import StoreWriter

AskPreview = Callable[[str, Mapping[str, Any]], None]   # (frame's path, its look) -> None


def record_frame(job: JobState, marker: Mapping[str, object], store: StoreWriter,
                 lock: Any, ask_preview: AskPreview) -> None:
    """Verify the frame's files, store them, tell the hooks' outputs file, ask its preview."""
    frame, path = marker.get("frame"), marker.get("path")
    if not isinstance(frame, int) or not isinstance(path, str):
        return
    files = marker.get("files")
    extra = [p for p in files if isinstance(p, str)] if isinstance(files, list) else []
    stamps = store.frame(job.id, frame, [path, *extra])
    if stamps:
        job.done[frame] = [s.path for s in stamps]
    if extra:
        with lock:
            job.add_extra_outputs(extra)
    if job.outputs_file:
        append_lines(job.outputs_file, [path, *extra])
    look = marker.get("preview")
    if isinstance(look, Mapping) and path in [s.path for s in stamps]:
        ask_preview(path, look)


def append_lines(path: str, lines: list[str]) -> None:
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as stream:
        stream.write("".join(line + "\n" for line in lines))
