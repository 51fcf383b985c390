"""A real small movie (made by FFmpeg in the test) and a batch whose job has made it: what the
movie's route, the dashboard, the feed and the mail are tested with, without Blender or the
job loop (the job's movie state is set as the loop sets it, under the batch's lock)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.encode.movie_state import MovieState, MovieStatus
from renderplus.batch.runner import Batch


def make_movie(path: Path, *, frames: int = 4, size: str = "64x48") -> Path:
    """An H.264 (or, by ``path``'s extension, another) movie of ``frames`` test-pattern frames."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("FFmpeg is not installed")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=24",
                    "-frames:v", str(frames), "-pix_fmt", "yuv420p", str(path)],
                   check=True, timeout=60, stdin=subprocess.DEVNULL)
    return path


def done_movie(path: Path, *, frames: int = 4, fps: float = 24.0, **changes: Any) -> MovieState:
    """The movie state of a job whose H.264 movie ``path`` is made."""
    return replace(MovieState(MovieStatus.DONE, "h264", "H.264 MP4", path=str(path), progress=100.0,
                              frames=frames, fps=fps, seconds=frames / fps, sound=False,
                              colour="as written"), **changes)


def set_movie(batch: Batch, job_id: int, movie: MovieState) -> None:
    """Give job ``job_id`` of ``batch`` this movie state, as the job loop would."""
    state = batch.state
    with state.lock:
        job = state.jobs[job_id]
        job.movie = movie
        job.revision += 1
    state.changed()
