"""Blender's stdout, one line at a time, turned into a job's progress (Blender 2.8x to 5.x).

Two layers: ``lines`` is the stateless grammar (``parse_line`` -> ``Event``), ``progress``
the ``JobProgress`` state machine that folds events into what a poll shows. The rest are its
parts: ``fatal`` (why Blender died), ``engines`` (engine ids per version), ``engine_data``,
``layers``, ``done`` (frames done, bounded), ``kept`` (bounds on kept output), ``clock``,
``framelist``. ``docs/engine-api.md`` ("Progress parsing") is the public contract.
"""

from .engines import COMPATIBLE_ENGINES, normalize_engine
from .fatal import FatalKind
from .kept import MAX_KEPT_CHARS, MAX_PATHS, TAIL_LINES
from .lines import MAX_LINE_CHARS, NON_COMPATIBLE, Event, EventKind, parse_line
from .progress import FRAME_FRACTION_CAP, MAX_ERRORS, JobProgress

__all__ = [
    "COMPATIBLE_ENGINES",
    "FRAME_FRACTION_CAP",
    "MAX_ERRORS",
    "MAX_KEPT_CHARS",
    "MAX_LINE_CHARS",
    "MAX_PATHS",
    "NON_COMPATIBLE",
    "TAIL_LINES",
    "Event",
    "EventKind",
    "FatalKind",
    "JobProgress",
    "normalize_engine",
    "parse_line",
]
