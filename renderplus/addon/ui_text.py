"""Widths of text as the sidebar draws it: Blender's ``blf`` in the UI's font size and scale,
and the room the region being drawn leaves a line (``text_fit`` does the fitting).

The room is the region's width less what Blender draws around a line, in UI units (20 px at
scale 1), measured in the default sidebars of Blender 3.4 and 5.2 under Xvfb (in 3.4, a label in a
box of the Job panel had 93 px less than the region: 4.5 units; a job list row's name 98 px
less: 4.7 units) and kept a little generous, so a line never reaches the edge.
"""

from __future__ import annotations

from typing import Any

import blf
import bpy

from .text_fit import LineWidth

UNIT = 20.0  # pixels of one UI unit at scale 1
PANEL_UNITS = 3.0  # the tab strip, the panel's margins, its scroll bar, a label's own padding
LIST_ROW_UNITS = 5.2  # the same for the job list's name, with its box, scroll bar and toggle
FALLBACK_WIDTH = 300  # a region of unknown width (drawn in background, as tests do)
# Blender draws the UI's text a little wider than ``blf.dimensions`` says (3.4 drew
# "Camera.001 closeup" 112 px wide where blf said 107): widths are taken this much larger.
DRAWN_MARGIN = 1.06
_cache: dict[tuple[float, str], float] = {}
_CACHE_MAX = 4000


def scale(context: bpy.types.Context) -> float:
    """The UI's scale (0 in background mode: 1 then)."""
    system = context.preferences.system if context.preferences is not None else None
    return system.ui_scale if system is not None and system.ui_scale > 0 else 1.0


def font_pixels(context: bpy.types.Context) -> float:
    """The size buttons and labels are drawn at, in pixels."""
    styles: Any = context.preferences.ui_styles if context.preferences is not None else ()
    points = styles[0].widget.points if len(styles) else 11.0
    return float(points) * scale(context)


def measurer(context: bpy.types.Context) -> Any:
    """A function of a text that says its drawn width in pixels."""
    size = font_pixels(context)

    def measure(text: str) -> float:
        key = (size, text)
        width = _cache.get(key)
        if width is None:
            if len(_cache) > _CACHE_MAX:
                _cache.clear()
            if bpy.app.version < (4, 0, 0):
                blf.size(0, size, 72)  # type: ignore[call-arg]  # 3.x also takes a DPI
            else:
                blf.size(0, size)
            width = _cache[key] = float(blf.dimensions(0, text)[0]) * DRAWN_MARGIN
        return width

    return measure


def region_width(context: bpy.types.Context) -> float:
    region = context.region
    return float(region.width) if region is not None and region.width > 1 else FALLBACK_WIDTH


def line_width(context: bpy.types.Context, indent: float = 1.5) -> LineWidth:
    """The room for a label's text in the region being drawn; ``indent``: UI units taken
    before it (an icon, a box's margins)."""
    units = (PANEL_UNITS + indent) * UNIT * scale(context)
    return LineWidth(max(region_width(context) - units, 4 * UNIT * scale(context)), measurer(context))


def list_row_room(context: bpy.types.Context) -> float:
    """The room in a job list row for the name and what follows it, in pixels."""
    return region_width(context) - LIST_ROW_UNITS * UNIT * scale(context)
