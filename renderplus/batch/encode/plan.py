"""What a job's encode will do: its frames, its movie's path, and whether it is needed at all.

A movie is made only from a job's whole set of verified frames, all image files. A resumed
batch whose frames are all there encodes again only when the movie is missing or older than
one of its frames (``needs_encoding``). The movie's name and its partial name come from
``blender_scripts/movie_name.py``, the rule the script in Blender (on a farm node too) follows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ...blender_scripts.movie_name import movie_path, partial_path
from ..recipe import Job, Recipe
from .formats import FORMATS, MOVIE_EXTENSIONS, MovieFormat

_MOVIE_SUFFIXES = frozenset({*MOVIE_EXTENSIONS, ".avi", ".ogv", ".flv", ".mpg", ".mpeg", ".m4v", ".dv"})


@dataclass(frozen=True)
class EncodePlan:
    """One job's movie: from these frames (in order), to ``movie`` via ``partial``."""

    job_id: int
    format: MovieFormat
    frames: tuple[int, ...]
    paths: tuple[str, ...]
    movie: str
    fps: float | None          # None: the scene's
    audio: bool

    @property
    def partial(self) -> str:
        return partial_path(self.movie)


class NoMovie(Exception):
    """The frames cannot make a movie; the message says why (the job fails with it)."""


def movie_output(recipe: Recipe, job: Job) -> str:
    """``encode.output`` made absolute ("" stays ""): ``//`` is the .blend's folder, anything
    else relative to the recipe; a trailing separator (a folder) is kept."""
    assert job.encode is not None
    output = job.encode.output
    if not output:
        return ""
    if output.startswith("//"):
        absolute = os.path.join(os.path.dirname(recipe.resolve(job.source_file)), output[2:])
    else:
        absolute = recipe.resolve(output)
    return absolute + os.sep if output.endswith(("/", "\\")) and not absolute.endswith(os.sep) else absolute


def plan_encode(recipe: Recipe, job: Job, done: Mapping[int, Sequence[str]]) -> EncodePlan:
    """The encode of ``job`` from its verified frames ``done``; ``NoMovie`` when they cannot
    make one (frames missing, movie files)."""
    assert job.encode is not None
    frames = list(job.frames)
    missing = [frame for frame in frames if not done.get(frame)]
    if missing:
        shown = ", ".join(str(frame) for frame in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise NoMovie(f"No movie: {len(missing)} of {len(frames)} frames are missing ({shown})")
    paths = [done[frame][0] for frame in frames]
    movies = [path for path in paths if os.path.splitext(path)[1].lower() in _MOVIE_SUFFIXES]
    if movies:
        raise NoMovie(f"No movie: the job wrote a movie, not image frames ({movies[0]})")
    movie_format = FORMATS[job.encode.format]
    movie = movie_path(movie_output(recipe, job), movie_format.extension, paths[0], job.display_name)
    return EncodePlan(job.id, movie_format, tuple(frames), tuple(paths), movie, job.encode.fps,
                      job.encode.audio)


def needs_encoding(plan: EncodePlan) -> bool:
    """False when the movie is there and newer than every frame (a resume leaves it alone)."""
    try:
        made = os.stat(plan.movie).st_mtime_ns
    except OSError:
        return True
    for path in plan.paths:
        try:
            if os.stat(path).st_mtime_ns > made:
                return True
        except OSError:
            return True
    return False
