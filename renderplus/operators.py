# mypy: disable-error-code="valid-type"
# ruff: noqa: RUF012  (Blender reads bl_options as a plain class attribute)
"""Operators of the batch: render it, cancel it, run the server, import and export recipes.

Operators run in Blender's main thread and talk to the batch only through ``bridge``; the
operators that edit the job list are in ``job_operators``.
"""

from __future__ import annotations

import os
import shutil
from typing import Literal

import bpy
from bpy.props import BoolProperty, StringProperty
from bpy_extras.io_utils import ExportHelper, ImportHelper

from . import bridge, recipe_io
from .batch.options import choose_blender
from .batch.recipe import RecipeError
from .preferences import get_preferences, preferred_blender
from .props import ensure_uids, scene_settings, settings_of

Result = set[Literal["RUNNING_MODAL", "CANCELLED", "FINISHED", "PASS_THROUGH", "INTERFACE"]]


# --------------------------------------------------------------------------------------------
# Helpers


def blend_base_dir() -> str:
    """Where ``//`` points: the .blend's folder, or Render+'s folder for an unsaved file."""
    if bpy.data.filepath:
        return os.path.dirname(bpy.data.filepath)
    return str(bridge.user_dir("untitled"))


def resolve_path(path: str) -> str:
    """An absolute path for the recipe: ``//`` and plain relative paths against the .blend."""
    base = blend_base_dir()
    resolved = bpy.path.abspath(os.path.expanduser(path), start=base)
    if not os.path.isabs(resolved):
        resolved = os.path.join(base, resolved)
    keep_slash = path.endswith(("/", "\\"))
    resolved = os.path.normpath(resolved)
    return resolved + os.sep if keep_slash else resolved


def _report_recipe_error(op: bpy.types.Operator, exc: RecipeError, what: str) -> None:
    op.report({"ERROR"}, f"{what}: {len(exc.errors)} problem(s)\n"
              f"{recipe_io.describe_recipe_error(exc.errors)}")


# --------------------------------------------------------------------------------------------
# The batch


class RENDERPLUS_OT_batch_render(bpy.types.Operator):
    """Render the enabled jobs in the background from a saved copy of this file, so you can keep
    working and unsaved edits are never lost"""

    bl_idname = "renderplus.batch_render"
    bl_label = "Render Batch"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return context.scene is not None and not bridge.batch_running()

    def execute(self, context: bpy.types.Context) -> Result:
        scene = context.scene
        assert scene is not None
        settings = scene_settings(scene)
        if not any(job.enabled for job in settings.jobs):
            self.report({"ERROR"}, "No enabled job to render: add a job or enable one")
            return {"CANCELLED"}
        prefs = get_preferences()
        default_blender = preferred_blender(prefs)
        ensure_uids(settings)
        blend_path = bpy.data.filepath
        needs_copy = any(job.enabled and not job.external for job in settings.jobs)
        copy_path = str(bridge.copy_path_for(blend_path)) if needs_copy else ""
        try:  # no blender_bin in the recipe: the batch's frozen options carry the preference
            recipe = recipe_io.build_recipe(
                settings, blend_path=blend_path, copy_path=copy_path, blender_bin="",
                mail_password=prefs.mail_password if prefs is not None else "", abspath=resolve_path)
        except RecipeError as exc:
            _report_recipe_error(self, exc, "The batch cannot start")
            return {"CANCELLED"}
        blender = choose_blender(recipe, default_blender)
        if shutil.which(blender) is None:  # a path must be an executable file; a name, on PATH
            self.report({"ERROR"}, f"No Blender binary to render with ({blender} is not an executable "
                        "file): set one in the add-on preferences")
            return {"CANCELLED"}
        if needs_copy:
            try:
                os.makedirs(os.path.dirname(copy_path), exist_ok=True)
                if os.path.exists(copy_path):
                    os.remove(copy_path)  # else Blender keeps the previous copy as .blend1
                bpy.ops.wm.save_as_mainfile(filepath=copy_path, copy=True, check_existing=False)
            except (OSError, RuntimeError) as exc:
                self.report({"ERROR"}, f"Could not save the copy to render ({copy_path}): {exc}")
                return {"CANCELLED"}
        try:
            bridge.start_batch(recipe, scene=scene.name, uids=[job.uid for job in settings.jobs],
                               copy_path=copy_path, blender_bin=default_blender)
        except bridge.BridgeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        count = len(recipe.enabled_jobs)
        where = f" from the saved copy {copy_path}" if copy_path else ""
        self.report({"INFO"}, f"Rendering {count} job(s){where}")
        return {"FINISHED"}


class RENDERPLUS_OT_batch_cancel(bpy.types.Operator):
    """Cancel the running batch (the current job stops, the rest never start)"""

    bl_idname = "renderplus.batch_cancel"
    bl_label = "Cancel Batch"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return bridge.batch_running()

    def execute(self, context: bpy.types.Context) -> Result:
        try:
            bridge.cancel_batch()
        except bridge.BridgeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"FINISHED"}


class RENDERPLUS_OT_job_cancel(bpy.types.Operator):
    """Cancel the job that is rendering now; the batch goes on with the next one"""

    bl_idname = "renderplus.job_cancel"
    bl_label = "Cancel Current Job"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return bridge.batch_running()

    def execute(self, context: bpy.types.Context) -> Result:
        try:
            bridge.cancel_current_job()
        except bridge.BridgeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"FINISHED"}


# --------------------------------------------------------------------------------------------
# The server


class RENDERPLUS_OT_server_start(bpy.types.Operator):
    """Start the batch server in this Blender (127.0.0.1, the port set in the preferences)"""

    bl_idname = "renderplus.server_start"
    bl_label = "Start Server"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return bridge.server_url() is None

    def execute(self, context: bpy.types.Context) -> Result:
        prefs = get_preferences()
        port = prefs.server_port if prefs is not None else 7777
        try:
            url = bridge.start_server(port)
        except bridge.BridgeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Batch server running at {url}")
        return {"FINISHED"}


class RENDERPLUS_OT_server_stop(bpy.types.Operator):
    """Stop the batch server (a batch started from the add-on keeps running)"""

    bl_idname = "renderplus.server_stop"
    bl_label = "Stop Server"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return bridge.server_url() is not None

    def execute(self, context: bpy.types.Context) -> Result:
        bridge.stop_server()  # returns at once: requests in flight end in the server's threads
        self.report({"INFO"}, "Batch server stopping")
        return {"FINISHED"}


# --------------------------------------------------------------------------------------------
# Recipes as files


class RENDERPLUS_OT_recipe_export(bpy.types.Operator, ExportHelper):  # type: ignore[misc]
    """Save the jobs and batch settings as a recipe (JSON) for the command line or the server"""

    bl_idname = "renderplus.recipe_export"
    bl_label = "Export Recipe"

    filename_ext = ".json"
    filepath: StringProperty(name="File Path", subtype="FILE_PATH", options={"SKIP_SAVE"})
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})
    include_password: BoolProperty(name="Include Mail Password", default=False,
                                   description="Write the mail password into the file (plain text)")

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
                blender_bin=choose_blender(None, preferred_blender(prefs)),
                mail_password=prefs.mail_password if prefs is not None else "", abspath=resolve_path)
        except RecipeError as exc:
            hint = "" if blend_path else " (save the .blend first: jobs without an external file render it)"
            _report_recipe_error(self, exc, f"The recipe is not valid{hint}")
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
            _report_recipe_error(self, exc, f"{os.path.basename(self.filepath)} is not a valid recipe")
            return {"CANCELLED"}
        for note in recipe_io.apply_recipe(recipe, settings, replace=self.replace):
            self.report({"WARNING"}, note)
        self.report({"INFO"}, f"Imported {len(recipe.jobs)} job(s)")
        return {"FINISHED"}


CLASSES = (
    RENDERPLUS_OT_batch_render,
    RENDERPLUS_OT_batch_cancel,
    RENDERPLUS_OT_job_cancel,
    RENDERPLUS_OT_server_start,
    RENDERPLUS_OT_server_stop,
    RENDERPLUS_OT_recipe_export,
    RENDERPLUS_OT_recipe_import,
)

register, unregister = bpy.utils.register_classes_factory(CLASSES)
