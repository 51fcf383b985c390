"""What the pump changes in Blender's own UI besides the run-state properties: which regions
redraw, and which job the list selects."""

from __future__ import annotations

from typing import Any

import bpy

from .props import scene_settings

# Progress redraws only the 3D viewport's sidebar (region "UI"), never the viewport itself: a
# viewport redraw under software OpenGL can take a second (bench/bench_gui.py). The preferences
# area is small and shows the server's state.
REDRAW_REGIONS = {"VIEW_3D": "UI"}
REDRAW_AREAS = frozenset({"PREFERENCES"})


def tag_sidebars(wm: Any) -> None:
    """Redraw the sidebars (and the preferences), never a whole 3D viewport."""
    for window in wm.windows:
        screen = window.screen
        if screen is None:
            continue
        for area in screen.areas:
            region_type = REDRAW_REGIONS.get(area.type)
            if region_type is not None:
                for region in area.regions:
                    if region.type == region_type:
                        region.tag_redraw()
            elif area.type in REDRAW_AREAS:
                area.tag_redraw()


def select_job(scene_name: str, uid: int) -> None:
    """Make the scene job ``uid`` the job list's active row (when the scene and job exist)."""
    scene = bpy.data.scenes.get(scene_name)
    if scene is None:
        return
    settings = scene_settings(scene)
    for index, job in enumerate(settings.jobs):
        if job.uid == uid:
            if settings.active_job_index != index:
                settings.active_job_index = index
            return
