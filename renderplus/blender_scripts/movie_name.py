"""Where a job's movie goes and what it is called: one rule for the engine and for Blender.

The engine (``batch/encode``) and the script that encodes inside Blender
(``encode_movie.py``, on this machine or a farm node) both import this module: standard library
only. A movie is written under a hidden partial name in its own folder and renamed when whole,
so a movie under its final name is never half written.
"""

from __future__ import annotations

import os
import re

_FRAME_TAIL = re.compile(r"[_.\-\s]*-?\d+$")
_SEPARATORS = "_.- "


def default_movie_path(first_frame: str, extension: str, fallback_name: str) -> str:
    """Beside the frames, named after them: ``/out/shot_0001.png`` -> ``/out/shot.mp4``; frames
    named by their number alone (``/out/0001.png``) give ``fallback_name`` (the job's name)."""
    folder, name = os.path.split(first_frame)
    stem = _FRAME_TAIL.sub("", os.path.splitext(name)[0]).rstrip(_SEPARATORS)
    return os.path.join(folder, (stem or safe_name(fallback_name)) + extension)


def movie_path(output: str, extension: str, first_frame: str, fallback_name: str) -> str:
    """The movie's path: ``output`` as given (absolute already; a folder gets the default name
    in it; no extension gets the format's), or beside the frames when ``output`` is ""."""
    if not output:
        return default_movie_path(first_frame, extension, fallback_name)
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        return os.path.join(output, os.path.basename(default_movie_path(first_frame, extension,
                                                                        fallback_name)))
    return output if os.path.splitext(output)[1] else output + extension


def partial_path(movie: str) -> str:
    """The name the movie is written under until it is whole (same folder: an atomic rename)."""
    folder, name = os.path.split(movie)
    stem, extension = os.path.splitext(name)
    return os.path.join(folder, f".{stem}.partial{extension}")


def safe_name(name: str) -> str:
    """A job's name as a file name: path separators and control characters replaced."""
    cleaned = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in name).strip(" .")
    return cleaned or "movie"
