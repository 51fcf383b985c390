"""The data-path grammar of custom overrides: names and literal subscripts, nothing executable.

A recipe's ``custom_overrides[].path`` (``render.fps``, ``objects["Cube"].hide_render``) is
split here into steps that the override script inside Blender walks with getattr and
subscripts; recipe text is never evaluated, so calls, operators and dunders are refused.
"""

from __future__ import annotations

import re

from .errors import show

MAX_PATH_CHARS = 512

DataPathStep = tuple[str, str | int]  # ("attr", name) | ("key", "Cube") | ("index", 0)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SUBSCRIPT = re.compile(r"""\[(?:"([^"\\]*)"|'([^'\\]*)'|(-?\d{1,9}))\]""")


def data_path_problem(data_path: str) -> str | None:
    """Why ``data_path`` is not a plain attribute path, or None when it is.

    Accepted: dotted identifiers with string or integer subscripts, e.g.
    ``render.resolution_x``, ``objects["Cube"].hide_render``, ``view_layers[0].use``.
    """
    return None if split_data_path(data_path) is not None else (
        f"not a plain attribute path (got {show(data_path)}); "
        'use names and subscripts only, e.g. render.fps or objects["Cube"].hide_render')


def split_data_path(data_path: str) -> list[DataPathStep] | None:
    """Parse ``a.b["c"][0]`` into ``[("attr", "a"), ("attr", "b"), ("key", "c"), ("index", 0)]``;
    None when it is anything but names and literal subscripts (no calls, no dunders)."""
    if not 0 < len(data_path) <= MAX_PATH_CHARS:
        return None
    steps: list[DataPathStep] = []
    pos = 0
    while pos < len(data_path):
        if not steps or data_path[pos] == ".":
            name = _NAME.match(data_path, pos + (1 if steps else 0))
            if name is None or name.group().startswith("__"):
                return None
            steps.append(("attr", name.group()))
            pos = name.end()
            continue
        subscript = _SUBSCRIPT.match(data_path, pos)
        if subscript is None:
            return None
        double, single, number = subscript.groups()
        if number is not None:
            steps.append(("index", int(number)))
        else:
            steps.append(("key", double if double is not None else single))
        pos = subscript.end()
    return steps
