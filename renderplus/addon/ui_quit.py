"""The quit choice where the artist presses Render: what happens to a batch when Blender quits
(``quit_lifecycle``). It is a preference (a property of the machine, not of a scene), drawn here
too because that is where the artist decides to leave a batch running overnight."""

from __future__ import annotations

import bpy


def draw_quit_choice(layout: bpy.types.UILayout) -> None:
    """One row: "If Blender quits" and the preference's menu (nothing while it is unavailable)."""
    from .preferences import get_preferences

    prefs = get_preferences()
    if prefs is None:
        return
    row = layout.row(align=True)
    row.scale_y = 0.9
    row.label(text="If Blender quits:", icon="QUIT")
    row.prop(prefs, "on_quit", text="")
