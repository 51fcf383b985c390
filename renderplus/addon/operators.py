# mypy: disable-error-code="valid-type"
# ruff: noqa: RUF012  (Blender reads bl_options as a plain class attribute)
"""Operators of the batch: render it, cancel it, run the server, import and export recipes.

Operators run in Blender's main thread and talk to the batch only through ``bridge``; the
operators that edit the job list are in ``job_operators``.
"""

from __future__ import annotations

import os
import re
from typing import Any, Literal

import bpy
from bpy.props import BoolProperty, IntProperty, StringProperty
from bpy_extras.io_utils import ExportHelper, ImportHelper

from ..batch.options import choose_blender
from ..batch.preflight import find_binary
from ..batch.recipe import RecipeError
from . import batch_lifecycle, bridge, job_checks, recipe_io, server_lifecycle
from .paths import copy_path_for, relative_outputs, resolve_path
from .preferences import DEFAULT_PORT, get_preferences, preferred_blender
from .props import ensure_uids, run_state, scene_settings, settings_of
from .ui_run import draw_wrapped, wrap_lines

Result = set[Literal["RUNNING_MODAL", "CANCELLED", "FINISHED", "PASS_THROUGH", "INTERFACE"]]


# --------------------------------------------------------------------------------------------
# Helpers


# How long Render waits for a binary's engines and version still being asked: a script (no UI
# to freeze) waits for the answer; the UI waits only a moment (the lookup starts when the binary
# is chosen, so it is usually known), then says it is checking and lets the pump redraw.
BINARY_WAIT = 10.0
BINARY_WAIT_UI = 0.5
MESSAGE_WIDTH = 700  # pixels of the window that shows a job's whole message
__all__ = ["resolve_path"]  # re-exported: scripts resolve job paths the way Render does


def _report_recipe_error(op: bpy.types.Operator, exc: RecipeError, what: str, jobs: Any = ()) -> None:
    """The validator's problems; with the scene's ``jobs``, ``jobs[6]`` reads "Job 'Cam Left'"."""
    text = recipe_io.describe_recipe_error(exc.errors)
    if len(jobs):
        def name(match: re.Match[str]) -> str:
            index = int(match.group(1))
            if index >= len(jobs):
                return match.group(0)
            return f"Job {jobs[index].name!r}: " if match.group(2) else f"Job {jobs[index].name!r}"

        text = re.sub(r"\bjobs\[(\d+)\](\.?)", name, text)
    op.report({"ERROR"}, f"{what}: {len(exc.errors)} problem(s)\n{text}")


# --------------------------------------------------------------------------------------------
# The batch


class RENDERPLUS_OT_batch_render(bpy.types.Operator):
    """Render the enabled jobs in the background from a saved copy of this file, so you can keep
    working and unsaved edits are never lost"""

    bl_idname = "renderplus.batch_render"
    bl_label = "Render Batch"

    directory: StringProperty(name="Render Folder", subtype="DIR_PATH", options={"SKIP_SAVE"},
                              description="Where the renders of an unsaved file go (its jobs' "
                              "relative output paths start here)")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return context.scene is not None and not batch_lifecycle.batch_running()

    def invoke(self, context: bpy.types.Context, event: Any) -> Result:
        """An unsaved file has no folder for "//renders/...": ask for one instead of guessing."""
        scene = context.scene
        if scene is not None and not bpy.data.filepath and relative_outputs(scene_settings(scene).jobs):
            if not self.directory:
                self.directory = str(bpy.path.abspath("//")) or os.path.expanduser("~")
            wm = context.window_manager
            assert wm is not None
            wm.fileselect_add(self)
            return {"RUNNING_MODAL"}
        return self.execute(context)

    def execute(self, context: bpy.types.Context) -> Result:
        scene = context.scene
        assert scene is not None
        settings = scene_settings(scene)
        if not any(job.enabled for job in settings.jobs):
            self.report({"ERROR"}, "No enabled job to render: add a job or enable one")
            return {"CANCELLED"}
        unsaved_relative = relative_outputs(settings.jobs) if not bpy.data.filepath else []
        if unsaved_relative and not self.directory:
            self.report({"ERROR"}, f"This file is not saved, so job {unsaved_relative[0]!r} has no folder "
                        "for its relative output path: save the file or choose a render folder")
            return {"CANCELLED"}
        base = bpy.path.abspath(self.directory) if self.directory else None

        def abspath(path: str) -> str:
            return resolve_path(path, base)

        prefs = get_preferences()
        default_blender = preferred_blender(prefs)
        ensure_uids(settings)
        blend_path = bpy.data.filepath
        needs_copy = any(job.enabled and not job.external for job in settings.jobs)
        copy_path = str(copy_path_for(blend_path)) if needs_copy else ""
        blender = choose_blender(None, default_blender)  # the add-on's recipes name no Blender
        if find_binary(blender) is None:
            self.report({"ERROR"}, f"No Blender binary to render with ({blender} is not an executable "
                        "file): set one in the add-on preferences")
            return {"CANCELLED"}
        if not self._check(scene, settings, blender, abspath):
            return {"CANCELLED"}
        try:  # no blender_bin in the recipe: the batch's frozen options carry the preference
            recipe = recipe_io.build_recipe(
                settings, blend_path=blend_path, copy_path=copy_path, blender_bin="",
                mail_password=prefs.mail_password if prefs is not None else "", abspath=abspath)
        except RecipeError as exc:
            _report_recipe_error(self, exc, "The batch cannot start", settings.jobs)
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
            batch_lifecycle.start_batch(recipe, scene=scene.name, uids=[job.uid for job in settings.jobs],
                               copy_path=copy_path, blender_bin=default_blender)
        except bridge.BridgeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        count = len(recipe.enabled_jobs)
        where = f" from the saved copy {copy_path}" if copy_path else ""
        self.report({"INFO"}, f"Rendering {count} job(s){where}")
        return {"FINISHED"}

    def _check(self, scene: bpy.types.Scene, settings: Any, blender: str, abspath: Any) -> bool:
        """Refuse a batch whose jobs would fail; every problem names its job by name."""
        if not bpy.app.background:
            binary = bridge.binary_info(blender) or bridge.wait_binary_info(blender, BINARY_WAIT_UI)
            if binary is None:
                self.report({"WARNING"}, f"Checking the Blender binary {blender} (its version and render "
                            "engines): press Render again in a moment")
                return False
        else:
            binary = bridge.wait_binary_info(blender, BINARY_WAIT)
        if binary is None:
            self.report({"WARNING"}, f"Could not yet ask {blender} which engines it has: not checked")
        elif binary.problem:
            self.report({"ERROR"}, binary.problem)
            return False
        arguments = batch_lifecycle.check_arguments(scene, binary, abspath)
        problems = job_checks.batch_problems(settings.jobs, **arguments)
        if problems:
            more = f"\n... and {len(problems) - 10} more" if len(problems) > 10 else ""
            shown = "\n".join(problems[:10]) + more
            self.report({"ERROR"}, f"The batch cannot start: {len(problems)} problem(s)\n{shown}")
            return False
        return True


class RENDERPLUS_OT_batch_resume(bpy.types.Operator):
    """Resume the batch that Blender's quit or crash interrupted: the jobs that did not finish
    render again"""

    bl_idname = "renderplus.batch_resume"
    bl_label = "Resume Batch"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return (not batch_lifecycle.batch_running() and batch_lifecycle.interrupted_batch() is not None
                and batch_lifecycle.can_resume())

    def execute(self, context: bpy.types.Context) -> Result:
        try:
            batch_lifecycle.resume_batch()
        except bridge.BridgeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, "Resuming the interrupted batch")
        return {"FINISHED"}


class RENDERPLUS_OT_job_messages(bpy.types.Operator):
    """Show the whole message of this job in a window (why it failed, in full)"""

    bl_idname = "renderplus.job_messages"
    bl_label = "Job Messages"

    index: IntProperty(name="Job", description="Row of the job in the last batch", default=-1)

    @classmethod
    def description(cls, context: bpy.types.Context, properties: Any) -> str:
        state = _job_state(context, properties.index)
        return state.messages if state is not None and state.messages else "Show the job's messages"

    def invoke(self, context: bpy.types.Context, event: Any) -> Result:
        if _job_state(context, self.index) is None:
            return {"CANCELLED"}
        wm = context.window_manager
        assert wm is not None
        result: Result = wm.invoke_popup(self, width=MESSAGE_WIDTH)
        return result

    def draw(self, context: bpy.types.Context) -> None:
        state = _job_state(context, self.index)
        if state is None or self.layout is None:
            return
        self.layout.label(text=state.name, icon="ERROR" if state.status == "FAILED" else "INFO")
        draw_wrapped(self.layout, state.messages, int(MESSAGE_WIDTH / 7))

    def execute(self, context: bpy.types.Context) -> Result:
        state = _job_state(context, self.index)
        if state is None:
            return {"CANCELLED"}
        for line in wrap_lines(state.messages, 200):
            self.report({"INFO"}, line)
        return {"FINISHED"}


def _job_state(context: bpy.types.Context, index: int) -> Any:
    wm = context.window_manager
    states = run_state(wm).jobs if wm is not None else []
    return states[index] if 0 <= index < len(states) else None


class RENDERPLUS_OT_batch_cancel(bpy.types.Operator):
    """Cancel the running batch (the current job stops, the rest never start)"""

    bl_idname = "renderplus.batch_cancel"
    bl_label = "Cancel Batch"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return batch_lifecycle.batch_running()

    def execute(self, context: bpy.types.Context) -> Result:
        try:
            batch_lifecycle.cancel_batch()
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
        return batch_lifecycle.batch_running()

    def execute(self, context: bpy.types.Context) -> Result:
        try:
            batch_lifecycle.cancel_current_job()
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
        return server_lifecycle.server_url() is None

    def execute(self, context: bpy.types.Context) -> Result:
        prefs = get_preferences()
        port = prefs.server_port if prefs is not None else DEFAULT_PORT
        try:
            url = server_lifecycle.start_server(port, no_token=prefs is not None and prefs.no_token)
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
        return server_lifecycle.server_url() is not None

    def execute(self, context: bpy.types.Context) -> Result:
        server_lifecycle.stop_server()  # returns at once: requests in flight end in the server's threads
        self.report({"INFO"}, "Batch server stopping")
        return {"FINISHED"}


class RENDERPLUS_OT_dashboard_copy(bpy.types.Operator):
    """Copy the dashboard's address, with the access token, to the clipboard (open it in a browser
    on this machine; whoever has it may drive the batch)"""

    bl_idname = "renderplus.dashboard_copy"
    bl_label = "Copy Dashboard Address"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return server_lifecycle.dashboard_url() is not None

    def execute(self, context: bpy.types.Context) -> Result:
        url = server_lifecycle.dashboard_url()
        wm = context.window_manager
        if url is None or wm is None:
            return {"CANCELLED"}
        wm.clipboard = url
        self.report({"INFO"}, "Dashboard address copied")
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
    RENDERPLUS_OT_batch_resume,
    RENDERPLUS_OT_job_messages,
    RENDERPLUS_OT_batch_cancel,
    RENDERPLUS_OT_job_cancel,
    RENDERPLUS_OT_server_start,
    RENDERPLUS_OT_server_stop,
    RENDERPLUS_OT_dashboard_copy,
    RENDERPLUS_OT_recipe_export,
    RENDERPLUS_OT_recipe_import,
)

register, unregister = bpy.utils.register_classes_factory(CLASSES)
