"""A job's movie as the poll shows it (job key ``movie``): waiting, encoding, made or not.

The job loop changes it (under the batch's lock) from the encode script's markers
(``encode_ready``, ``encode_progress``, ``movie``, ``encode_failed``); a restored batch reads it
back from the store. ``to_json`` is the poll's value: docs/api.md, Poll, ``movie``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any


class MovieStatus(enum.Enum):
    WAITING = "WAITING"        # frames still render, or another job's encode goes first
    ENCODING = "ENCODING"
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"    # cancelled or paused during its encode (no partial movie left)


@dataclass(frozen=True)
class MovieState:
    status: MovieStatus
    format: str
    label: str
    path: str | None = None
    progress: float = 0.0          # 0-100: colour (first half, for converted frames) then encode
    frames: int | None = None
    fps: float | None = None
    seconds: float | None = None
    sound: bool | None = None
    colour: str | None = None      # "Filmic view", "as written"
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "path": self.path, "format": self.format,
                "label": self.label, "progress": self.progress, "frames": self.frames,
                "fps": self.fps, "seconds": self.seconds, "sound": self.sound,
                "colour": self.colour, "message": self.message}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MovieState | None:
        try:
            status = MovieStatus(data.get("status"))
        except ValueError:
            return None
        return cls(status=status, format=str(data.get("format") or ""),
                   label=str(data.get("label") or ""), path=data.get("path"),
                   progress=float(data.get("progress") or 0.0), frames=data.get("frames"),
                   fps=data.get("fps"), seconds=data.get("seconds"), sound=data.get("sound"),
                   colour=data.get("colour"), message=data.get("message"))

    def on_marker(self, marker: Mapping[str, Any], *, converts: bool) -> MovieState:
        """The state after one of the encode script's markers (``converts``: the frames go
        through Blender's colour first, which is then the first half of the progress)."""
        event = marker.get("event")
        if event == "encode_ready":
            return replace(self, status=MovieStatus.ENCODING, path=marker.get("movie") or self.path,
                           frames=marker.get("frames"), fps=marker.get("fps"),
                           colour=marker.get("colour"), message=marker.get("sound"))
        if event == "encode_progress":
            total = max(1, int(marker.get("total") or 1))
            share = min(1.0, int(marker.get("done") or 0) / total)
            if converts:
                share = share / 2 if marker.get("stage") == "colour" else 0.5 + share / 2
            return replace(self, status=MovieStatus.ENCODING, progress=round(100.0 * share, 1))
        if event == "movie":
            return replace(self, status=MovieStatus.DONE, path=marker.get("path") or self.path,
                           progress=100.0, frames=marker.get("frames"), fps=marker.get("fps"),
                           seconds=marker.get("seconds"), sound=marker.get("sound"))
        if event == "encode_failed":
            return replace(self, status=MovieStatus.FAILED, message=str(marker.get("message") or ""))
        return self


ENCODE_EVENTS = frozenset({"encode_ready", "encode_progress", "movie", "encode_failed"})


def waiting_movie(format_name: str) -> MovieState:
    """The movie of an ``encode`` job before its frames are all there."""
    from .formats import FORMATS
    movie_format = FORMATS[format_name]
    return MovieState(MovieStatus.WAITING, movie_format.name, movie_format.label)
