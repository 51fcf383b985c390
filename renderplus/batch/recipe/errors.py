"""What a recipe check reports: issues with the path of the field, and the error that lists them.

The describing helpers live here too, because every message must be safe to print on any
terminal and to send as JSON: a value is shown as short JSON text (non-ASCII escaped), and
nothing here may raise on the values a hostile recipe carries (huge integers, lone surrogates).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

SHOWN_CHARS = 60          # a value quoted in a message is cut to this length
BIG_INT_BITS = 300        # integers wider than this (about 90 digits) are never a recipe value
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_]*\Z")
_UNPRINTABLE = re.compile("[\ud800-\udfff]")


@dataclass
class ValidationIssue:
    """One problem in a recipe: where (``jobs[2].frame_end``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class RecipeError(ValueError):
    """A recipe that cannot be used; ``errors`` lists every problem found."""

    def __init__(self, errors: list[ValidationIssue]) -> None:
        self.errors = errors
        count = len(errors)
        head = f"invalid recipe ({count} error{'s' if count != 1 else ''})"
        super().__init__(head + ":\n" + "\n".join(f"  - {e}" for e in errors))


class OverlongNumber:
    """Stands in for a JSON number with too many digits to be a value (decoding never fails on it).

    The scan of the decoded tree reports it with its path; the checker treats it as a wrong type.
    """

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"OverlongNumber({self.digits} digits)"


_KINDS = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
          int: "an integer", float: "a number", type(None): "null", OverlongNumber: "a number"}


def kind_of(value: Any) -> str:
    """``an object``, ``a list``, ... — the JSON kind of ``value`` in words."""
    for kind, words in _KINDS.items():
        if type(value) is kind:
            return words
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def show(value: Any) -> str:
    """``value`` as short, printable JSON text for a message; never raises."""
    if isinstance(value, OverlongNumber):
        return f"a number with {value.digits} digits"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > BIG_INT_BITS:
        return "an integer too large to show"
    if not isinstance(value, str | int | float | bool | type(None)):
        return kind_of(value)
    text = json.dumps(value)  # ensure_ascii: lone surrogates and control characters are escaped
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 3] + "..."


def printable_key(key: str) -> str:
    """A key as it may appear in a path: surrogates and control characters escaped, cut short."""
    if len(key) > SHOWN_CHARS:
        key = key[:SHOWN_CHARS - 3] + "..."
    if _PLAIN_KEY.match(key) or (key.isprintable() and not _UNPRINTABLE.search(key)):
        return key
    return json.dumps(key)[1:-1]


def join_path(path: str, key: str) -> str:
    """``jobs[0]`` + ``name`` -> ``jobs[0].name`` (a key at the top has no dot)."""
    key = printable_key(key)
    return f"{path}.{key}" if path else key
