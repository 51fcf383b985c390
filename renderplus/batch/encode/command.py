"""An encode as a Blender command line and the JSON file its script reads.

The movie is made by ``blender_scripts/encode_movie.py`` in a Blender opened on the job's own
.blend with the job's scene and settings applied: the scene's frame rate, sound and colour
management are the ones its frames were rendered with, and the same command runs on a farm node
as the farm job's last step. ``paths`` lists the frames' files when Render+ knows them (this
machine); a farm gives None and the script finds each frame where the job's render put it
(Blender's own ``frame_path`` under the same ``-o`` and ``-F``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..command import output_pattern, override_config
from ..markers import OVERRIDE_EXIT_CODE
from ..recipe import Job, Recipe
from ..script_paths import ENCODE_SCRIPT
from .formats import FORMATS

CONFIG_FLAG = "--renderplus-encode"
STALL_SECONDS = 120.0   # an FFmpeg that reports no progress this long is ended (a hang)
STALL_VAR = "RENDERPLUS_ENCODE_STALL_SECONDS"   # another limit (a test's, a slow network disk's)


def stall_seconds(env: Mapping[str, str]) -> float:
    """The stall limit: ``RENDERPLUS_ENCODE_STALL_SECONDS`` when it is a positive number."""
    try:
        value = float(env.get(STALL_VAR, ""))
    except ValueError:
        return STALL_SECONDS
    return value if value > 0 else STALL_SECONDS


def encode_config(recipe: Recipe, job: Job, *, movie: str, ffmpeg: str, workdir: str,
                  paths: Sequence[str] | None, stall_seconds: float = STALL_SECONDS) -> dict[str, Any]:
    """What the script needs, as data. ``movie``: the final path ("" lets the script name it
    beside the frames: a farm, which knows the frames' paths only on the node)."""
    assert job.encode is not None
    movie_format = FORMATS[job.encode.format]
    return {
        "job": override_config(recipe, job),
        "name": job.display_name,
        "frames": list(job.frames),
        "paths": None if paths is None else list(paths),
        "movie": movie,
        "output": "",           # the folder or file asked for, when ``movie`` is "" (farm)
        "format": movie_format.name,
        "label": movie_format.label,
        "extension": movie_format.extension,
        "ffmpeg": {"binary": ffmpeg, "encoder": movie_format.encoder,
                   "audio_encoder": movie_format.audio_encoder, **movie_format.ffmpeg_options()},
        "fps": job.encode.fps,
        "audio": job.encode.audio,
        "workdir": workdir,
        "stall_seconds": stall_seconds,
    }


def encode_argv(recipe: Recipe, job: Job, *, blender: str, config_path: str, blend: str | None = None,
                script: str = str(ENCODE_SCRIPT), output: str | None = None) -> list[str]:
    """``blender -b FILE [-S scene] [-o out -F format] --python encode_movie.py -- --renderplus-encode
    CONFIG``; ``blend``/``script``/``output``: a farm node's staged files and output."""
    argv = [blender, "-b", blend or recipe.resolve(job.source_file)]
    if job.scene:
        argv += ["-S", job.scene]
    pattern = output_pattern(recipe, job) if output is None else output
    if pattern:
        argv += ["-o", pattern]
    if job.format:
        argv += ["-F", job.format]
    return [*argv, "--python-exit-code", str(OVERRIDE_EXIT_CODE), "--python", script,
            "--", CONFIG_FLAG, config_path]
