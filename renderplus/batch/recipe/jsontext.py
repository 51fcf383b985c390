"""Recipe text -> plain data, safely: every hostile input becomes a ``RecipeError`` with a sentence.

``json.loads`` alone is not safe for text from the network: 100,000 nested brackets raise
RecursionError, a 5,000-digit integer raises ValueError (Python's int-string limit),
``NaN`` is accepted although it is not JSON, and a duplicate key silently replaces the first.
``decode_recipe_text`` checks nesting before decoding, keeps overlong numbers as
``OverlongNumber`` and records duplicate keys on the object that had them; ``scan_values`` then
walks the decoded tree (without recursion) and reports, with paths, what no field may hold:
duplicate keys, overlong or non-finite numbers, strings with lone UTF-16 surrogates.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from .errors import BIG_INT_BITS, OverlongNumber, RecipeError, ValidationIssue, join_path, show

MAX_DEPTH = 64            # a v2.2 recipe nests 6 levels; room for what newer add-ons add
MAX_DIGITS = 90           # longer JSON integers are kept as OverlongNumber (BIG_INT_BITS ~ 90 digits)

_ESCAPE = re.compile(rb"\\.", re.DOTALL)                      # \" \\ \n \u...: never structure
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_STRING = re.compile(rb'"[^"]*"')
_SQUARE = bytes.maketrans(b"{}", b"[]")                         # one kind of bracket to pair up
_DEEP_RUN = b"[" * (MAX_DEPTH + 1)
_SURROGATE = re.compile("[\ud800-\udfff]")
_LONG_DIGITS = re.compile(rf"\d{{{MAX_DIGITS + 1}}}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # may pair up; the scan decides


class JsonObject(dict[str, Any]):
    """A decoded JSON object that remembers the keys it was given more than once."""

    duplicate_keys: tuple[str, ...] = ()


class _NotJson(ValueError):
    """Raised inside the decoder for text Python's json would accept but JSON does not."""


class _Decoding:
    """The decoder's hooks, and whether any of them met something ``scan_values`` must report."""

    def __init__(self) -> None:
        self.suspicious = False

    def make_object(self, pairs: list[tuple[str, Any]]) -> JsonObject:
        result = JsonObject(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            repeated: list[str] = []
            for key, _ in pairs:
                if key in seen:
                    repeated.append(key)
                seen.add(key)
            result.duplicate_keys = tuple(repeated)
            self.suspicious = True
        return result

    def parse_int(self, digits: str) -> int | OverlongNumber:
        count = len(digits) - digits.startswith("-")
        if count > MAX_DIGITS:
            self.suspicious = True
            return OverlongNumber(count)
        return int(digits)

    def parse_float(self, text: str) -> float:
        value = float(text)
        if math.isinf(value):  # 1e999
            self.suspicious = True
        return value

    @staticmethod
    def refuse_constant(name: str) -> Any:
        raise _NotJson(f"{name} is not a JSON value (write a number)")


def nested_too_deeply(text: str | bytes) -> bool:
    """Whether JSON ``text`` nests brackets more than MAX_DEPTH levels (those in strings do not count).

    Works on the brackets alone, without recursion: each pass removes the innermost pairs, so
    a text is at most MAX_DEPTH deep when MAX_DEPTH passes leave nothing; a long run of openers
    ends it at once. Unbalanced brackets are left for the JSON decoder to report.
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    structure = _ESCAPE.sub(b"", raw).translate(None, _NOT_STRUCTURE)
    brackets = _STRING.sub(b"", structure).translate(_SQUARE, b'"')
    for _ in range(MAX_DEPTH):
        if not brackets:
            return False
        if _DEEP_RUN in brackets:
            return True
        inner_removed = brackets.replace(b"[]", b"")
        if len(inner_removed) == len(brackets):
            return False  # unbalanced: not JSON, which the decoder says
        brackets = inner_removed
    return bool(brackets)


def decode_recipe_text(source: str | bytes) -> tuple[Any, bool]:
    """Decode recipe text -> (data, whether ``scan_values`` can find anything in it).

    Raises ``RecipeError`` (one issue at path "") for anything that is not JSON.
    """
    try:
        text = source.decode("utf-8") if isinstance(source, bytes) else source
    except UnicodeDecodeError as exc:
        raise _unreadable(f"recipe is not UTF-8 text ({exc.reason})") from None
    if nested_too_deeply(source):
        raise _unreadable(f"recipe is nested too deeply (brackets more than {MAX_DEPTH} levels deep)")
    decoding = _Decoding()
    long_numbers = _LONG_DIGITS.search(text) is not None  # (maybe inside a string: then harmless)
    try:
        data = json.loads(text, object_pairs_hook=decoding.make_object,
                          parse_int=decoding.parse_int if long_numbers else None,
                          parse_float=decoding.parse_float, parse_constant=decoding.refuse_constant)
    except _NotJson as exc:
        raise _unreadable(f"recipe is not valid JSON: {exc}") from None
    except RecursionError:  # the pre-scan should make this unreachable; never let it escape
        raise _unreadable("recipe is nested too deeply") from None
    except ValueError as exc:
        raise _unreadable(f"recipe is not valid JSON: {exc}") from None
    suspicious = decoding.suspicious or bool(_SURROGATE.search(text) or _SURROGATE_ESCAPE.search(text))
    return data, suspicious


def _unreadable(message: str) -> RecipeError:
    return RecipeError([ValidationIssue("", message)])


Trail = tuple[Any, str | int] | None  # (parent trail, key or index): a path built only when needed


def _path_of(trail: Trail) -> str:
    parts: list[str | int] = []
    while trail is not None:
        trail, step = trail
        parts.append(step)
    path = ""
    for step in reversed(parts):
        path = f"{path}[{step}]" if isinstance(step, int) else join_path(path, step)
    return path


def scan_values(data: Any) -> list[ValidationIssue]:
    """Problems no recipe value may have, with their paths; iterative, so any depth is safe."""
    issues: list[ValidationIssue] = []
    stack: list[tuple[Any, int, Trail]] = [(data, 0, None)]
    while stack:
        value, depth, trail = stack.pop()
        if isinstance(value, dict | list | Mapping):
            if depth >= MAX_DEPTH:
                issues.append(ValidationIssue(_path_of(trail),
                                              f"nested too deeply (at most {MAX_DEPTH} levels)"))
                continue
            if isinstance(value, list):
                stack.extend((child, depth + 1, (trail, index)) for index, child in enumerate(value))
                continue
            for key in getattr(value, "duplicate_keys", ()):
                issues.append(ValidationIssue(_path_of((trail, key)), "duplicate key (given more than once)"))
            for key, child in value.items():
                key = key if isinstance(key, str) else str(key)
                if _SURROGATE.search(key):
                    issues.append(ValidationIssue(_path_of((trail, key)),
                                                  "key holds an unpaired UTF-16 surrogate"))
                stack.append((child, depth + 1, (trail, key)))
            continue
        problem = value_problem(value)
        if problem:
            issues.append(ValidationIssue(_path_of(trail), problem))
    issues.sort(key=lambda issue: issue.path)
    return issues


def value_problem(value: Any) -> str | None:
    """Why a scalar cannot be part of a recipe, or None."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        if found:
            return (f"holds an unpaired UTF-16 surrogate (\\u{ord(found.group()):04x} at "
                    f"character {found.start()}); text must be valid Unicode")
        return None
    if isinstance(value, OverlongNumber):
        return f"number out of range ({show(value)})"
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value.bit_length() > BIG_INT_BITS:
        return f"number out of range ({show(value)})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"number out of range (got {value})"
    return None
