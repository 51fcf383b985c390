# mypy: disable-error-code="valid-type, union-attr"
# ruff: noqa: RUF012  (Blender reads bl_options as a plain class attribute)
"""The add-on's list of Blender executables: the Blenders ``"auto"`` chooses from, each with its
version as that Blender says it (asked in a thread by ``bridge.binary_info``, never on the main
thread), or why it cannot render, in red.

With *Blender Binary* set to ``auto``, each job renders with the Blender that fits its .blend:
the jobs of the open file render a copy this Blender saved, so they get this Blender (listed
first, by itself); an external file gets the listed Blender of its saved version, else the
oldest newer one (docs/api.md, The right Blender for each file).
"""

from __future__ import annotations

from typing import Any

import bpy
from bpy.props import IntProperty, StringProperty

from ..batch.options import AUTO
from . import ADDON_ID, batch_lifecycle, bridge
from .operator_common import Result
from .props import PATH_OPTIONS


def listed_blenders(prefs: Any) -> tuple[str, ...]:
    """The listed executables, made absolute, empty rows left out, each once."""
    if prefs is None:
        return ()
    paths = (bpy.path.abspath(item.path.strip()) for item in prefs.blenders if item.path.strip())
    return tuple(dict.fromkeys(paths))


def hand_over(prefs: Any) -> None:
    """The list, with this Blender first, becomes the service's candidates for "auto"."""
    running = (bpy.app.binary_path,) if bpy.app.binary_path else ()
    batch_lifecycle.set_blender_candidates(tuple(dict.fromkeys((*running, *listed_blenders(prefs)))))


def list_problem(prefs: Any) -> str:
    """Why "auto" could not choose now: a listed Blender its answer says cannot render ("" when
    none; one still being asked is not judged here, the batch's own choice says so)."""
    for path in listed_blenders(prefs):
        info = bridge.binary_info(path)
        if info is not None and info.problem:
            return (f"A Blender in the add-on's list cannot render: {info.problem}. Remove it or "
                    "fix its path in the preferences (\"auto\" chooses among them)")
    return ""


def _preferences(context: Any) -> Any:
    """The add-on's preferences (None while they are not there), read without importing
    ``preferences``, which imports this module."""
    addon = context.preferences.addons.get(ADDON_ID) if context.preferences is not None else None
    return addon.preferences if addon is not None else None


def _list_changed(_item: Any, context: Any) -> None:
    hand_over(_preferences(context))


class RenderPlusBlenderPath(bpy.types.PropertyGroup):
    """One Blender executable of the list."""

    path: StringProperty(name="Blender", subtype="FILE_PATH", options=PATH_OPTIONS,
                         description="A Blender executable \"auto\" may choose", update=_list_changed)


class RENDERPLUS_OT_blender_add(bpy.types.Operator):
    """Add a Blender executable to the list "auto" chooses from"""

    bl_idname = "renderplus.blender_add"
    bl_label = "Add Blender"
    bl_options = {"INTERNAL"}

    def execute(self, context: bpy.types.Context) -> Result:
        prefs = _preferences(context)
        if prefs is None:
            return {"CANCELLED"}
        prefs.blenders.add()
        return {"FINISHED"}


class RENDERPLUS_OT_blender_remove(bpy.types.Operator):
    """Remove this Blender from the list"""

    bl_idname = "renderplus.blender_remove"
    bl_label = "Remove Blender"
    bl_options = {"INTERNAL"}

    index: IntProperty()

    def execute(self, context: bpy.types.Context) -> Result:
        prefs = _preferences(context)
        if prefs is None or not 0 <= self.index < len(prefs.blenders):
            return {"CANCELLED"}
        prefs.blenders.remove(self.index)
        hand_over(prefs)
        return {"FINISHED"}


def version_said(path: str) -> tuple[str, bool]:
    """(what the row says of ``path``, whether that is a problem): its version once asked."""
    info = bridge.binary_info(bpy.path.abspath(path.strip()))
    if info is None:
        return "Checking...", False
    if info.problem:
        return info.problem, True
    return f"Blender {info.version}", False


def draw_blender_list(layout: Any, prefs: Any) -> None:
    """The list: each path with its version (or what is wrong), remove buttons, Add Blender."""
    box = layout.box()
    box.label(text="Blenders \"auto\" chooses from (with this Blender)", icon="BLENDER")
    for index, item in enumerate(prefs.blenders):
        row = box.row(align=True)
        row.prop(item, "path", text="")
        if item.path.strip():
            said, problem = version_said(item.path)
            cell = row.row()
            cell.alert = problem
            cell.label(text=said)
        row.operator("renderplus.blender_remove", text="", icon="X").index = index
    box.operator("renderplus.blender_add", icon="ADD")
    if prefs.blender_bin.strip() != AUTO:
        hint = box.row()
        hint.active = False
        hint.label(text="Used when Blender Binary is \"auto\", or a recipe says so")


CLASSES = (RenderPlusBlenderPath, RENDERPLUS_OT_blender_add, RENDERPLUS_OT_blender_remove)
register, unregister = bpy.utils.register_classes_factory(CLASSES)
