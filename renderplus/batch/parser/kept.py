"""Bounds on what a job keeps from Blender's output: nothing may grow with the output.

The whole output goes to the log file only. A job keeps the count of every saved and skipped
file but the paths of the last ``MAX_PATHS`` only, error messages and tail lines cut to
``MAX_KEPT_CHARS``, and the last ``TAIL_LINES`` meaningful lines.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Final

MAX_KEPT_CHARS: Final = 2000   # one kept message or line
MAX_PATH_CHARS: Final = 4096   # PATH_MAX: a longer "path" is not one, and a cut path is wrong
MAX_PATHS: Final = 1000        # saved / skipped paths kept (the last ones)
TAIL_LINES: Final = 50         # meaningful lines kept for a failed job's message


def cap_text(text: str, limit: int = MAX_KEPT_CHARS) -> str:
    """``text``, cut to ``limit`` characters with a note of how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


class RecentPaths:
    """The last ``limit`` distinct paths in the order first seen, and how many were added in all.

    A path seen again while still kept is not counted twice (the frame marker and Blender's
    ``Saved:`` line name the same file).
    """

    __slots__ = ("_paths", "count", "limit")

    def __init__(self, limit: int = MAX_PATHS) -> None:
        self._paths: dict[str, None] = {}  # an ordered set
        self.count = 0
        self.limit = limit

    def add(self, path: str) -> bool:
        if path in self._paths:
            return False
        self._paths[path] = None
        self.count += 1
        if len(self._paths) > self.limit:
            del self._paths[next(iter(self._paths))]
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._paths))


class Tail:
    """The last ``TAIL_LINES`` meaningful lines, each cut, none blank: what a failed job quotes."""

    __slots__ = ("_lines",)

    def __init__(self) -> None:
        self._lines: deque[str] = deque(maxlen=TAIL_LINES)

    def remember(self, line: str | bytes, longest: int) -> None:
        """Keep ``line`` (its first ``longest`` characters; cut to ``MAX_KEPT_CHARS`` when read).

        Called for most lines Blender prints, so it only appends: the tidying waits for
        ``last``, which a failed job calls once."""
        if isinstance(line, (bytes, bytearray)):
            line = bytes(line[:longest]).decode("utf-8", "replace")
        elif len(line) > longest:
            line = line[:longest]
        if line and not line.isspace():
            self._lines.append(line)

    def last(self, count: int) -> list[str]:
        if count <= 0:
            return []
        return [cap_text(line.rstrip()) for line in list(self._lines)[-count:]]
