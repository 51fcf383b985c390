"""What the pump changes in Blender's own UI besides the run-state properties: which regions
redraw, and which job the list selects."""

from __future__ import annotations

import time
from typing import Any

import bpy

from .props import scene_settings

# Progress redraws only the 3D viewport's sidebar (region "UI"), never the viewport itself: a
# viewport redraw under software OpenGL can take a second (bench/bench_gui.py). The preferences
# area shows the server's state: it is redrawn on milestones only, never for progress.
REDRAW_REGIONS = {"VIEW_3D": "UI"}
REDRAW_AREAS = frozenset({"PREFERENCES"})

# A sidebar showing another tab is not redrawn: Blender has no API for a sidebar's tab before
# 4.2, so the panel says where it drew (``panel_drawn``); a sidebar tagged once whose redraw did
# not draw Render+ shows another tab, or is hidden, and is left alone until Render+ draws there
# again (switching to its tab redraws the sidebar by itself).
_drawn_at: dict[int, float] = {}    # sidebar region (pointer) -> when Render+ last drew in it
_tagged_at: dict[int, float] = {}   # sidebar region (pointer) -> when the pump last tagged it


def panel_drawn(region: Any) -> None:
    """Render+'s main panel drew in ``region`` (called from its ``draw``)."""
    if region is not None:
        _drawn_at[region.as_pointer()] = time.monotonic()


def tag_sidebars(wm: Any, *, preferences: bool = True) -> None:
    """Redraw the sidebars that show Render+ (and, with ``preferences``, the preferences),
    never a whole 3D viewport."""
    now = time.monotonic()
    for window in wm.windows:
        screen = window.screen
        if screen is None:
            continue
        for area in screen.areas:
            region_type = REDRAW_REGIONS.get(area.type)
            if region_type is not None:
                for region in area.regions:
                    if region.type == region_type and _shows_renderplus(region):
                        region.tag_redraw()
                        _tagged_at[region.as_pointer()] = now
            elif preferences and area.type in REDRAW_AREAS:
                area.tag_redraw()


def _shows_renderplus(region: Any) -> bool:
    """False for a sidebar whose last redraw asked by the pump did not draw Render+."""
    key = region.as_pointer()
    tagged = _tagged_at.get(key)
    return tagged is None or _drawn_at.get(key, -1.0) >= tagged


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
