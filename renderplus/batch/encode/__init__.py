"""A movie from a job's frames (recipe key ``encode``): docs/movies.md.

``formats`` (the movie formats, each declared once), ``plan`` (which frames, which movie, is
it needed), ``command`` (the Blender command and the JSON its script reads), ``ffmpeg`` (which
FFmpeg, what it can do), ``movie_state`` (the poll's ``movie``), ``step`` (running one encode on
this machine for the job loop). The encoding itself happens in
``blender_scripts/encode_movie.py``, inside a Blender opened on the job's file.
"""

from .command import STALL_VAR, encode_argv, encode_config, stall_seconds
from .ffmpeg import Ffmpeg, FfmpegMissing, ffmpeg, find_ffmpeg
from .formats import FORMAT_NAMES, FORMATS, MovieFormat
from .movie_state import ENCODE_EVENTS, MovieState, MovieStatus
from .plan import EncodePlan, NoMovie, movie_output, needs_encoding, plan_encode

__all__ = [
    "ENCODE_EVENTS",
    "FORMATS",
    "FORMAT_NAMES",
    "STALL_VAR",
    "EncodePlan",
    "Ffmpeg",
    "FfmpegMissing",
    "MovieFormat",
    "MovieState",
    "MovieStatus",
    "NoMovie",
    "encode_argv",
    "encode_config",
    "ffmpeg",
    "find_ffmpeg",
    "movie_output",
    "needs_encoding",
    "plan_encode",
    "stall_seconds",
]
