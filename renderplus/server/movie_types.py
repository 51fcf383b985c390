"""The Content-Type of each movie format's file, apart from the route so that the OpenAPI
document (``openapi.py``) can list them without importing Bottle."""

from __future__ import annotations

import os

from ..batch.encode.formats import FORMATS

MOVIE_TYPES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
}
MOVIE_MEDIA_TYPES = tuple(MOVIE_TYPES.values())
_UNTYPED = {f.extension for f in FORMATS.values()} - set(MOVIE_TYPES)
assert not _UNTYPED, f"movie formats without a Content-Type: {_UNTYPED}"


def movie_type(path: str) -> str:
    """The Content-Type of a movie file, by its extension (what a browser decodes it as)."""
    return MOVIE_TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")
