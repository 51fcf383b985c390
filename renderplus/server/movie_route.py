"""``GET /batch/jobs/<id>/movie``: the movie an ``encode`` job made, streamed from its file.

Bottle's ``static_file`` answers it, so ``Range`` requests (a ``<video>`` seeking), ``HEAD``,
``If-Modified-Since`` and ``ETag`` all work as a browser expects. Only the path the job's own
movie state names is served (the poll's ``movie.path`` once ``DONE``), never one from the URL.
The route is private (guard.ROUTE_ACCESS): a movie is file contents, as frames are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .answers import error_answer
from .bottle_loader import bottle
from .movie_types import movie_type

MOVIE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"}


def done_movie_path(movie: Mapping[str, Any] | None) -> str | None:
    """The path of a movie that is made (status ``DONE``), or None."""
    if not movie or movie.get("status") != "DONE":
        return None
    path = movie.get("path")
    return path if isinstance(path, str) and path else None


def movie_problem(job_id: int, movie: Mapping[str, Any] | None) -> str | None:
    """Why job ``job_id`` has no movie to send (the 404's sentence), or None."""
    if movie is None:
        return f"Job {job_id} makes no movie (its recipe has no encode)"
    path = done_movie_path(movie)
    if path is None:
        status = movie.get("status")
        why = f": {movie['message']}" if status == "FAILED" and movie.get("message") else ""
        return f"Job {job_id} has no movie yet: its movie is {status}{why}"
    if not os.path.isfile(path):
        return f"Job {job_id}'s movie is gone from disk: {os.path.basename(path)}"
    return None


def send_movie(path: str) -> Any:
    """The movie file as Bottle's ``static_file`` serves it (Range, HEAD, 304), with its type."""
    folder, name = os.path.split(os.path.abspath(path))
    answer = bottle.static_file(name, root=folder, mimetype=movie_type(name))
    if answer.status_code >= 400:  # vanished or unreadable between the check and the open
        return error_answer(404 if answer.status_code == 404 else 403,
                            f"The movie cannot be read: {name} ({answer.body})")
    for header, value in MOVIE_HEADERS.items():
        answer.set_header(header, value)
    return answer
