"""Which frames of a job are already done: written, still there, and whole.

A frame counts as done when its file exists and is plausible (``outcome.frame_problem``: not
empty, PNG/JPEG not cut short) and, for a frame the store recorded, is still the very file
recorded (same size, mtime and inode): a half-written frame of a killed run, or a file
replaced since, is rendered again. ``skip_existing`` finds existing frames by listing the
output folder once (a two-million-frame range is never walked frame by frame), and counts a
file only when it passes the structural check every written frame gets
(``frame_checks.check_file``: a frame cut short by a killed run is rendered again).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..blender_scripts.frame_checks import check_file
from .command import output_pattern
from .frames import FrameSet
from .outcome import frame_problem
from .recipe import Job, Recipe

MOVIE_FORMATS = ("FFMPEG", "AVI_JPEG", "AVI_RAW")
_HASHES = re.compile(r"#+")


@dataclass(frozen=True)
class Stamp:
    """A file as verified: what tells a later run whether it is still the same file."""

    path: str
    size: int
    mtime_ns: int
    inode: int


def stamp(path: str) -> Stamp | None:
    """The file's stamp when it exists and looks whole, else None."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not os.path.isfile(path) or frame_problem(path):
        return None
    return Stamp(path, info.st_size, info.st_mtime_ns, info.st_ino)


def unchanged(recorded: Stamp) -> bool:
    """True when the recorded file is still there, the same file, and whole."""
    now = stamp(recorded.path)
    return now is not None and (now.size, now.mtime_ns, now.inode) == (
        recorded.size, recorded.mtime_ns, recorded.inode)


# Formats whose end is checked (``outcome.frame_problem``): a file cut short is told apart.
CHECKED_WHOLE = (".png", ".jpg", ".jpeg")


def written_since(path: str, since: float) -> bool:
    """True when ``path`` was last written at or after ``since`` (a time.time()) and its content
    shows that it is whole: a file the store has no record of is only trusted this far."""
    found = stamp(path)
    return (found is not None and found.mtime_ns >= int(since * 1e9)
            and path.lower().endswith(CHECKED_WHOLE))


def is_movie(job: Job) -> bool:
    return job.format.upper() in MOVIE_FORMATS


def missing_frames(frames: FrameSet, done: Iterable[int]) -> FrameSet:
    """``frames`` without the ``done`` ones, still as runs."""
    done_set = set(done)
    if not done_set:
        return frames
    return FrameSet.from_frames(f for f in frames if f not in done_set)


def existing_outputs(recipe: Recipe, job: Job, frames: FrameSet,
                     blend_dir: str) -> dict[int, list[str]]:
    """Frames of ``frames`` whose output file already exists and is whole (for
    ``skip_existing``; the structural check): the output folder is listed once and its names
    matched against the job's ``-o`` pattern (Blender's ``#`` padding; any image extension)."""
    pattern = output_pattern(recipe, job)
    if not pattern:
        return {}  # the file's own output path: unknown here, so nothing is skipped
    if pattern.startswith("//"):
        pattern = os.path.join(blend_dir, pattern[2:])
    folder, name = os.path.split(pattern)
    runs = list(_HASHES.finditer(name))
    if not runs:
        return {}
    last = runs[-1]
    width = last.end() - last.start()
    regex = re.compile(re.escape(name[:last.start()]) + r"(-?\d{" + str(width) + ",})"
                       + re.escape(name[last.end():]) + r"(\.[A-Za-z0-9]{2,5})?$")
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return {}
    found: dict[int, list[str]] = {}
    for entry in names:
        match = regex.match(entry)
        if not match:
            continue
        frame = int(match.group(1))
        path = os.path.join(folder, entry)
        if frame in frames and stamp(path) is not None and check_file(path) is None:
            found.setdefault(frame, []).append(path)
    return found


def verified_frames(recorded: Mapping[int, Iterable[Stamp]]) -> dict[int, list[str]]:
    """The recorded frames whose every file is unchanged."""
    done: dict[int, list[str]] = {}
    for frame, files in recorded.items():
        files = list(files)
        if files and all(unchanged(f) for f in files):
            done[frame] = [f.path for f in files]
    return done
