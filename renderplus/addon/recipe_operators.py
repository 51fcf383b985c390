# mypy: disable-error-code="valid-type"
# ruff: noqa: RUF012  (Blender reads bl_options as a plain class attribute)
"""Operators of recipe files: export the jobs and batch settings as a recipe (JSON), import one.

The conversion both ways is ``recipe_io``'s; these only pick the file and report.
"""

from __future__ import annotations

import os

import bpy
from bpy.props import BoolProperty, StringProperty
from bpy_extras.io_utils import ExportHelper, ImportHelper

from ..batch.options import AUTO, choose_blender
from ..batch.recipe import RecipeError
from . import recipe_io
from .operator_common import Result, report_recipe_error
from .paths import resolve_path
from .preferences import get_preferences, preferred_blender
from .props import ensure_uids, settings_of, written_format


def exported_blender(preferred: str | None) -> str:
    """The recipe's ``blender_bin``: "auto" stays "auto" (whoever runs the recipe chooses among
    its own Blenders), else the path this add-on would render with."""
    return AUTO if preferred == AUTO else choose_blender(None, preferred)

class RENDERPLUS_OT_recipe_export(bpy.types.Operator, ExportHelper):  # type: ignore[misc]
    """Save the jobs and batch settings as a recipe (JSON) for the command line or the server"""

    bl_idname = "renderplus.recipe_export"
    bl_label = "Export Recipe"

    filename_ext = ".json"
    filepath: StringProperty(name="File Path", subtype="FILE_PATH", options={"SKIP_SAVE"})
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})
    include_password: BoolProperty(name="Include Secrets", default=False,
                                   description="Write the mail password and the webhook URL into the "
                                   "file (plain text)")

    def execute(self, context: bpy.types.Context) -> Result:
        settings = settings_of(context)
        if settings is None:
            return {"CANCELLED"}
        ensure_uids(settings)
        prefs = get_preferences()
        blend_path = bpy.data.filepath  # an exported recipe renders the saved file itself
        try:
            recipe = recipe_io.build_recipe(
                settings, blend_path=blend_path, copy_path=blend_path,
                blender_bin=exported_blender(preferred_blender(prefs)),
                mail_password=prefs.mail_password if prefs is not None else "", abspath=resolve_path,
                file_format=written_format, webhook_url=prefs.webhook_url if prefs is not None else "")
        except RecipeError as exc:
            hint = "" if blend_path else " (save the .blend first: jobs without an external file render it)"
            report_recipe_error(self, exc, f"The recipe is not valid{hint}")
            return {"CANCELLED"}
        try:
            with open(self.filepath, "w", encoding="utf-8") as handle:
                handle.write(recipe_io.dump_recipe(recipe, include_password=self.include_password))
        except OSError as exc:
            self.report({"ERROR"}, f"Could not write {self.filepath}: {exc.strerror or exc}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Recipe with {len(recipe.jobs)} job(s) saved to {self.filepath}")
        return {"FINISHED"}


class RENDERPLUS_OT_recipe_import(bpy.types.Operator, ImportHelper):  # type: ignore[misc]
    """Load jobs and batch settings from a recipe (JSON)"""

    bl_idname = "renderplus.recipe_import"
    bl_label = "Import Recipe"
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ".json"
    filepath: StringProperty(name="File Path", subtype="FILE_PATH", options={"SKIP_SAVE"})
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})
    replace: BoolProperty(name="Replace Jobs", default=True,
                          description="Remove the existing jobs first (else add to them)")

    def execute(self, context: bpy.types.Context) -> Result:
        settings = settings_of(context)
        if settings is None:
            return {"CANCELLED"}
        try:
            recipe = recipe_io.load_recipe_file(self.filepath)
        except OSError as exc:
            self.report({"ERROR"}, f"Could not read {self.filepath}: {exc.strerror or exc}")
            return {"CANCELLED"}
        except RecipeError as exc:
            report_recipe_error(self, exc, f"{os.path.basename(self.filepath)} is not a valid recipe")
            return {"CANCELLED"}
        for note in recipe_io.apply_recipe(recipe, settings, replace=self.replace):
            self.report({"WARNING"}, note)
        self.report({"INFO"}, f"Imported {len(recipe.jobs)} job(s)")
        return {"FINISHED"}


CLASSES = (
    RENDERPLUS_OT_recipe_export,
    RENDERPLUS_OT_recipe_import,
)

register, unregister = bpy.utils.register_classes_factory(CLASSES)
