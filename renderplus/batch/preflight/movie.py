"""``--check`` of a job's ``encode``: what movie it will make, with which FFmpeg, and what would
stop it, said before a night of frames is spent on a movie that cannot be made.

The movie's path comes from the rule the encode itself follows (``encode.movie_output`` and
``blender_scripts/movie_name.py``), with the first frame's expected path standing in for the
frames that do not exist yet. The FFmpeg is the one the engine would use (``encode.ffmpeg``):
its version and encoders are asked once per binary.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ...blender_scripts.movie_name import movie_path
from ..command import output_pattern
from ..encode import FORMATS, Ffmpeg, FfmpegMissing, MovieFormat, ffmpeg, movie_output
from ..recipe import Job, Recipe
from .rules import folder_problem

_HASHES = re.compile(r"#+")
_STAND_IN_EXTENSION = ".frame"  # the frames' own extension is Blender's choice; only the stem counts


@dataclass(frozen=True)
class MovieCheck:
    """One job's encode as ``--check`` says it: ``line`` (what will happen), ``problems``."""

    job: int
    line: str
    problems: list[str] = field(default_factory=list)


def check_movie(recipe: Recipe, job: Job, env: Mapping[str, str] | None = None) -> MovieCheck:
    """What ``job``'s encode will do and what would stop it (the job has ``encode``)."""
    assert job.encode is not None
    movie_format = FORMATS[job.encode.format]
    target, folder = movie_target(recipe, job, movie_format)
    problems: list[str] = []
    try:
        encoder: Ffmpeg | None = ffmpeg(env)
    except FfmpegMissing as exc:
        encoder = None
        problems.append(str(exc))
    if encoder is not None:
        lacks = encoder.lacks(movie_format, audio=job.encode.audio)
        if lacks:
            problems.append(f"Cannot make the movie: {lacks}")
    if folder is not None and movie_output(recipe, job):  # beside the frames: their check says it
        problem = folder_problem(folder, what="movie folder")
        if problem:
            problems.append(problem)
    by = f"by FFmpeg {encoder.version} ({encoder.path})" if encoder else "by no FFmpeg (none found)"
    line = (f"jobs[{job.id}]: movie {target} ({movie_format.label}, {_rate(job)}, {_sound(job)}) "
            f"{by} after the frames")
    return MovieCheck(job.id, line, problems)


def movie_target(recipe: Recipe, job: Job, movie_format: MovieFormat) -> tuple[str, str | None]:
    """The movie as ``--check`` names it, and the folder it will be written in (None when only
    Blender knows it: the job writes where its file says)."""
    output = movie_output(recipe, job)
    first = first_frame_path(recipe, job)
    if first is not None or (output and not _is_folder(output)):
        path = movie_path(output, movie_format.extension, first or "", job.display_name)
        return path, os.path.dirname(path)
    if output:
        return f"in {output} (named after the frames)", output
    return "beside the frames (the file's own output path)", None


def first_frame_path(recipe: Recipe, job: Job) -> str | None:
    """Where the job's first frame will be written, as the movie's name is made from it; None
    when the job writes where its .blend says (only Blender knows that path)."""
    pattern = output_pattern(recipe, job)
    if not pattern:
        return None
    if pattern.startswith("//"):  # relative to the .blend, as Blender reads it
        pattern = os.path.join(os.path.dirname(recipe.resolve(job.source_file)), pattern[2:])
    folder, name = os.path.split(pattern)
    runs = list(_HASHES.finditer(name))
    frame = next(iter(job.frames))
    if runs:  # Blender numbers the last run of #s: at least that many digits, a sign before
        last = runs[-1]
        digits = ("-" if frame < 0 else "") + str(abs(frame)).zfill(len(last.group()))
        name = f"{name[:last.start()]}{digits}{name[last.end():]}"
    return os.path.join(folder, name + _STAND_IN_EXTENSION)


def _is_folder(output: str) -> bool:
    return output.endswith(("/", os.sep)) or os.path.isdir(output)


def _rate(job: Job) -> str:
    assert job.encode is not None
    fps = job.encode.fps
    return "the scene's frame rate" if fps is None else f"{fps:g} fps"


def _sound(job: Job) -> str:
    assert job.encode is not None
    return "sound if the scene has any" if job.encode.audio else "no sound"
