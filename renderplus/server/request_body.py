"""Reading a request's body: its length first, then the bytes, then JSON (docs/api.md, Errors).

Every route that takes a body reads it through here, so they all answer the same way: 411
without a Content-Length (or with a chunked body), 413 above the route's limit (from the header,
before anything is read), 408 when the client stops sending, 406 for a content type that is not
JSON, and 400 for text that is not JSON, each with a sentence. The functions return the data,
or the error answer to give instead (``is_answer`` tells them apart).

JSON is decoded as a recipe is (``batch.recipe.jsontext``): nesting, huge numbers, ``NaN``,
duplicate keys and lone surrogates are refused with the path of the value, never a 500.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ..batch.recipe import Recipe, RecipeError, parse_recipe
from ..batch.recipe.errors import ValidationIssue, show
from ..batch.recipe.jsontext import decode_recipe_text, scan_values
from .answers import JSON_TYPE, error_answer
from .bottle_loader import bottle
from .upload import UploadError, raw_chunks

SMALL_BODY = 64 * 1024  # {"position": 3}, {"when": "now"}: anything bigger is a mistake


def is_answer(value: Any) -> bool:
    """True for an error answer a reader returned instead of data."""
    return isinstance(value, bottle.HTTPResponse)


def body_length(limit: int, what: str) -> int | Any:
    """The request's Content-Length, or the error answer to give instead."""
    environ = bottle.request.environ
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return error_answer(411, f"Send the {what} with a Content-Length "
                                 "(chunked bodies are not accepted)")
    if not environ.get("CONTENT_LENGTH"):
        return error_answer(411, f"Send the {what} with a Content-Length header")
    length = bottle.request.content_length
    if length > limit:
        return error_answer(413, f"The {what} is too large: {length} bytes, the limit is {limit}",
                            limit=limit)
    return length


def raw_body(length: int) -> bytes:
    """Exactly ``length`` bytes of the request body (small bodies only: recipes).

    UploadError(408) when the client stops sending (the server's ``BodyTimeoutError``)."""
    try:
        return b"".join(raw_chunks(bottle.request.environ["wsgi.input"], length))
    except TimeoutError as exc:
        raise UploadError(408, str(exc) or "The request body stalled") from None


def content_type_problem(*, missing_ok: bool) -> Any | None:
    """406 unless the body is sent as JSON (``application/json`` or ``application/*+json``);
    ``missing_ok``: a body without any content type is taken as JSON (small bodies)."""
    mime = bottle.request.content_type.split(";")[0].strip().lower()
    if not mime and missing_ok:
        return None
    if mime == JSON_TYPE or (mime.startswith("application/") and mime.endswith("+json")):
        return None
    return error_answer(406, f"Wrong content type {mime or '(none)'!r}: send the body as {JSON_TYPE}")


def issues_answer(exc: RecipeError, what: str) -> Any:
    """400 with every problem, each with its path (``errors``), as ``POST /batch/recipe`` answers."""
    count = len(exc.errors)
    return error_answer(400, f"Invalid {what}: {count} error{'s' if count != 1 else ''}",
                        errors=[issue.to_dict() for issue in exc.errors])


def read_bytes(limit: int, what: str) -> bytes | Any:
    """The whole body (at most ``limit`` bytes), or the error answer."""
    length = body_length(limit, what)
    if not isinstance(length, int):
        return length
    try:
        return raw_body(length)
    except UploadError as exc:
        return error_answer(exc.code, str(exc))


def json_body_bytes(limit: int, what: str) -> bytes | Any:
    """A JSON request's whole body, or the error answer (406 for another type, 408, 411, 413)."""
    wrong_type = content_type_problem(missing_ok=False)
    if wrong_type is not None:
        return wrong_type
    return read_bytes(limit, what)


def decode_json(body: bytes) -> Any:
    """``body`` decoded as strict JSON; RecipeError with paths for what no value may hold."""
    data, suspicious = decode_recipe_text(body)
    if suspicious:
        issues = scan_values(data)
        if issues:
            raise RecipeError(issues)
    return data


class RecipeReader:
    """Reads a recipe body (``POST /batch/recipe``, ``POST /queue``): one parse at a time, so
    N big bodies never take N times the memory; relative paths against the work folder."""

    def __init__(self, work_dir: Path, limit: int) -> None:
        self.work_dir = work_dir
        self.limit = limit
        self._parsing = threading.Lock()

    def read(self) -> Recipe | Any:
        """The recipe the request carries, or the error answer (406, 408, 411, 413, 400)."""
        body = json_body_bytes(self.limit, "recipe")
        if is_answer(body):
            return body
        try:
            with self._parsing:
                return parse_recipe(body, base_dir=str(self.work_dir))
        except RecipeError as exc:
            return issues_answer(exc, "recipe")


def read_small_json(route: str, example: str, *, required: bool, limit: int = SMALL_BODY) -> Any:
    """A small JSON object (``{"position": 0}``), ``{}`` for no body unless ``required``; the
    error answer for anything else (naming ``route`` and showing ``example``)."""
    environ = bottle.request.environ
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not environ.get("CONTENT_LENGTH") and not chunked:
        if required:
            return error_answer(400, f"{route} needs a JSON body: {example}")
        return {}
    wrong_type = content_type_problem(missing_ok=True)
    if wrong_type is not None:
        return wrong_type
    body = read_bytes(limit, "body")
    if is_answer(body):
        return body
    if not body.strip() and not required:
        return {}
    try:
        data = decode_json(body)
    except RecipeError as exc:
        return issues_answer(exc, "body")
    if not isinstance(data, dict):
        return bad_value("", f"the body must be a JSON object: {example}")
    return data


def bad_value(path: str, message: str) -> Any:
    """400 naming the key (``path``) and what is wrong with its value."""
    issue = ValidationIssue(path, message)
    return error_answer(400, str(issue), errors=[issue.to_dict()])


def unknown_keys(body: dict[str, Any], allowed: tuple[str, ...]) -> Any | None:
    """400 naming the first key that is not one of ``allowed``, or None."""
    for key in body:
        if key not in allowed:
            known = ", ".join(allowed)
            return bad_value(str(key), f"unknown key (this body takes {known})")
    return None


def position_of(body: dict[str, Any], path: str = "position") -> int | Any:
    """``body[path]`` as a position (an integer from 0), or the 400 answer naming it."""
    if path not in body:
        return bad_value(path, "missing: give the position, an integer from 0 (0 = next)")
    value = body[path]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return bad_value(path, f"must be an integer from 0 (0 = next); got {show(value)}")
    return value
