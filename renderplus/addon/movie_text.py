"""The panels' words for a job's movie (the poll's ``movie``, as ``run_io`` wrote it into the
job's row): waiting for the frames, encoding, made, failed or cancelled. No ``bpy``, so plain
tests read every line; ``ui_movie`` draws them."""

from __future__ import annotations

import os

from ..batch.durations import format_duration

WAITING, ENCODING, DONE, FAILED, CANCELLED = "WAITING", "ENCODING", "DONE", "FAILED", "CANCELLED"


def movie_length(seconds: float) -> str:
    """"4.2 s", "2 min 05 s" (the render times' words); "" while unknown (negative)."""
    return format_duration(seconds) if seconds >= 0 else ""


def movie_line(status: str, *, progress: float = 0.0, path: str = "", label: str = "",
               seconds: float = -1.0, message: str = "") -> str:
    """The job's movie in one line; "" when the job makes none (no status)."""
    if status == WAITING:
        return "Movie: waiting for the frames"
    if status == ENCODING:
        return f"Encoding movie… {min(max(progress, 0.0), 100.0):.0f}%"
    if status == DONE:
        details = ", ".join(part for part in (label, movie_length(seconds)) if part)
        name = os.path.basename(path) or "made"
        return f"Movie: {name}" + (f" ({details})" if details else "")
    if status == FAILED:
        return f"Movie failed: {message}" if message else "Movie failed"
    if status == CANCELLED:
        return "Movie cancelled (no partial movie left)"
    return ""


def settings_note(fps: float, output: str) -> str:
    """Under the Movie box's fields, what the zero and the empty values mean."""
    rate = f"at {fps:g} fps" if fps > 0 else "at the scene's frame rate"
    typed = output.strip()
    if not typed:
        where = "beside the frames, named after them"
    else:
        where = "in that folder" if typed.endswith(("/", "\\")) else "into that file"
    return f"Made {rate}, {where}"
