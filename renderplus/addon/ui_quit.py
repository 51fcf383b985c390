"""The quit choice where the artist presses Render: what happens to a batch when Blender quits
(``quit_lifecycle``). It is a preference (a property of the machine, not of a scene), drawn here
too because that is where the artist decides to leave a batch running overnight."""

from __future__ import annotations

import bpy


def draw_quit_choice(layout: bpy.types.UILayout) -> None:
    """"If Blender quits:" over the two choices side by side, each readable at the sidebar's
    default width (nothing while the preferences are unavailable)."""
    from .preferences import get_preferences

    prefs = get_preferences()
    if prefs is None:
        return
    col = layout.column(align=True)
    col.label(text="If Blender quits:", icon="QUIT")
    col.row(align=True).prop(prefs, "on_quit", expand=True)
