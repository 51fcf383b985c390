"""How text fits the sidebar, by its drawn width in pixels (not a guess of characters per line).

Pure: the width of a text comes from a ``measure`` function (``ui_text.measure`` asks Blender's
``blf``, in the UI's font, size and scale), so plain Python tests can check the wrapping and the
job list row's choices with any measure.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass

Measure = Callable[[str], float]


@dataclass(frozen=True)
class LineWidth:
    """The room for one line of text in pixels, and how to measure a text."""

    pixels: float
    measure: Measure


def wrap_lines(text: str, width: int | LineWidth) -> list[str]:
    """``text`` in lines that fit ``width`` (pixels by measure, or a count of characters), its
    own line breaks kept; a word longer than a line is broken."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        if isinstance(width, int):
            lines.extend(textwrap.wrap(paragraph, width, break_long_words=True, break_on_hyphens=False)
                         or [""])
        else:
            lines.extend(_wrap_measured(paragraph, width) or [""])
    return lines


def _wrap_measured(paragraph: str, width: LineWidth) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in paragraph.split():
        candidate = f"{line} {word}" if line else word
        if width.measure(candidate) <= width.pixels:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        while width.measure(line) > width.pixels and len(line) > 1:  # a word longer than a line
            cut = _longest_prefix(line, width)
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    return lines


def _longest_prefix(word: str, width: LineWidth) -> int:
    """How many of ``word``'s first characters fit a line (at least one)."""
    fits = 1
    for end in range(2, len(word) + 1):
        if width.measure(word[:end]) > width.pixels:
            break
        fits = end
    return fits


def extras_fit(name: str, extras: list[str], room: float, padding: float, measure: Measure) -> list[str]:
    """Which of ``extras`` (in order of worth) a job list row can show after the whole of
    ``name`` in ``room`` pixels, each taking its text's width plus ``padding``: the name always
    comes first."""
    left = room - measure(name) - padding
    shown = []
    for extra in extras:
        needs = measure(extra) + padding
        if extra and needs <= left:
            shown.append(extra)
            left -= needs
    return shown
