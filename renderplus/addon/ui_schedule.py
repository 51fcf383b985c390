# mypy: disable-error-code="union-attr"
"""When things render, drawn in the N-panel: the "When to Render" fields (a daily window, a
start time) with what they mean, and the estimate under Render.

Draw only, like ``ui``; the sentences come from ``schedule_text`` and ``render_estimate`` (no
``bpy``), the estimate's recipe from ``recipe_io``, built as Render builds it.
"""

from __future__ import annotations

import time
from typing import Any

import bpy

from ..batch.recipe import RecipeError
from . import batch_lifecycle, recipe_io
from .paths import check_resolver
from .preferences import get_preferences
from .props import written_format
from .render_estimate import EstimateCache, RenderEstimate
from .schedule_text import start_hint, window_hint
from .text_fit import LineWidth
from .ui_run import draw_wrapped

_estimates = EstimateCache()


def draw_schedule(layout: bpy.types.UILayout, settings: Any) -> None:
    """The window and the start time, each with what it means or what is wrong with it."""
    layout.use_property_split = True
    layout.use_property_decorate = False
    col = layout.column()
    col.prop(settings, "use_window")
    if settings.use_window:
        sub = col.column(align=True)
        sub.prop(settings, "window_start")
        sub.prop(settings, "window_end")
        _hint(col, *window_hint(settings.window_start, settings.window_end))
    col.prop(settings, "use_start_at")
    if settings.use_start_at:
        col.prop(settings, "start_at")
        _hint(col, *start_hint(settings.start_at, time.time()))


def _hint(layout: bpy.types.UILayout, readable: bool, sentence: str) -> None:
    row = layout.row()
    row.alert = not readable    # a problem stands out in red; a plain hint is dimmed
    row.active = not readable
    row.label(text=sentence, icon="TIME" if readable else "ERROR")


def _webhook_url() -> str:
    prefs = get_preferences()
    return prefs.webhook_url if prefs is not None else ""


def render_estimate(settings: Any) -> RenderEstimate | None:
    """The scene's jobs' estimate from the history, as Render would start them now; None when
    they make no valid recipe yet (Render says why) or none is enabled."""
    blend_path = bpy.data.filepath
    try:
        recipe = recipe_io.build_recipe(
            settings, blend_path=blend_path, copy_path=blend_path or recipe_io.UNTITLED,
            blender_bin="", mail_password="", abspath=check_resolver(),
            file_format=written_format, webhook_url=_webhook_url())
    except RecipeError:
        return None
    if not recipe.enabled_jobs:
        return None
    return _estimates.get(recipe, batch_lifecycle.get_service().store)


def draw_estimate(layout: bpy.types.UILayout, settings: Any, width: int | LineWidth) -> None:
    """Under Render: how long the jobs would render and when they would be done."""
    found = render_estimate(settings)
    if found is None:
        return
    col = layout.column()
    col.active = False
    col.scale_y = 0.8
    draw_wrapped(col, found.sentence(time.time()), width, icon="TIME")
