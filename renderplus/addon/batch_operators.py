# mypy: disable-error-code="valid-type"
"""Operators of the batch: render it, resume an interrupted one, cancel it or its current job,
and show a job's whole message.

Operators run in Blender's main thread and start, cancel and resume batches only through
``batch_lifecycle``; the operators that edit the job list are in ``job_operators``.
"""

from __future__ import annotations

import os
from typing import Any

import bpy
from bpy.props import EnumProperty, IntProperty, StringProperty

from ..batch.options import AUTO
from ..batch.preflight import find_binary
from ..batch.recipe import RecipeError
from . import (
    batch_lifecycle,
    blend_copies,
    blender_list,
    bridge,
    farm_choice,
    job_checks,
    queue_lifecycle,
    recipe_io,
    thumbnails,
)
from .operator_common import Result, report_recipe_error
from .paths import new_copy_path, relative_outputs, resolve_path
from .preferences import get_preferences, preferred_blender
from .props import ensure_uids, run_state, scene_settings, written_format
from .ui_run import draw_wrapped, wrap_lines

# How long Render waits for a binary's engines and version still being asked: a script (no UI
# to freeze) waits for the answer; the UI waits only a moment (the lookup starts when the binary
# is chosen, so it is usually known), then says it is checking and lets the pump redraw.
BINARY_WAIT = 10.0
BINARY_WAIT_UI = 0.5
MESSAGE_WIDTH = 700  # pixels of the window that shows a job's whole message


class RENDERPLUS_OT_batch_render(bpy.types.Operator):
    """Render the enabled jobs in the background from a saved copy of this file, so you can keep
    working and unsaved edits are never lost; while a batch renders or is paused, add them to
    the queue (they render this file as it is now)"""

    bl_idname = "renderplus.batch_render"
    bl_label = "Render Batch"

    directory: StringProperty(name="Render Folder", subtype="DIR_PATH", options={"SKIP_SAVE"},
                              description="Where the renders of an unsaved file go (its jobs' "
                              "relative output paths start here)")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return context.scene is not None

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
        copy_path = str(new_copy_path(blend_path)) if needs_copy else ""  # this batch's own
        blender = batch_lifecycle.addon_blender(default_blender)  # its recipes name no Blender
        if find_binary(blender) is None:
            self.report({"ERROR"}, f"No Blender binary to render with ({blender} is not an executable "
                        "file): set one in the add-on preferences")
            return {"CANCELLED"}
        listed = blender_list.list_problem(prefs) if default_blender == AUTO else ""
        if listed:
            self.report({"ERROR"}, listed)
            return {"CANCELLED"}
        farm_choice.hand_over(prefs)   # asked again: the storage folder may exist by now
        if farm_choice.problem():
            self.report({"ERROR"}, f"{farm_choice.problem()} (see the add-on preferences)")
            return {"CANCELLED"}
        if not self._check(scene, settings, blender, abspath):
            return {"CANCELLED"}
        try:  # no blender_bin in the recipe: the batch's frozen options carry the preference
            recipe = recipe_io.build_recipe(
                settings, blend_path=blend_path, copy_path=copy_path, blender_bin="",
                mail_password=prefs.mail_password if prefs is not None else "", abspath=abspath,
                file_format=written_format, webhook_url=prefs.webhook_url if prefs is not None else "")
        except RecipeError as exc:
            report_recipe_error(self, exc, "The batch cannot start", settings.jobs)
            return {"CANCELLED"}
        unseen = bridge.state().farm.unseen_outputs(recipe)
        if unseen:   # said, not refused: a one-machine farm, or storage mounted elsewhere too
            self.report({"WARNING"}, "; ".join(unseen))
        if needs_copy and not self._save_copy(copy_path, blend_path):
            return {"CANCELLED"}
        launch: dict[str, Any] = {"scene": scene.name, "uids": [job.uid for job in settings.jobs],
                  "copy_path": copy_path, "blender_bin": default_blender}
        count = len(recipe.enabled_jobs)
        where = f" from the saved copy {copy_path}" if copy_path else ""
        if bridge.state().farm.on_farm:
            where += f" on {farm_choice.where()}"
        try:
            if batch_lifecycle.batch_busy():
                entry = queue_lifecycle.enqueue_batch(recipe, **launch)
                if copy_path:  # the sweep keeps it while this id is queued
                    blend_copies.write_note(copy_path, source=blend_path, queue_id=entry.id)
                self.report({"INFO"}, f"Queued {count} job(s) at position {entry.position + 1}{where}")
            else:
                batch_lifecycle.start_batch(recipe, **launch)
                thumbnails.warm_up()   # now, not when the first frame's thumbnail shows
                self.report({"INFO"}, f"Rendering {count} job(s){where}")
        except bridge.BridgeError as exc:
            bridge.sweep_copies()  # the copy of a batch that never started
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"FINISHED"}

    def _save_copy(self, copy_path: str, blend_path: str) -> bool:
        """Save this batch's own copy of the file as it is now (unsaved edits included)."""
        try:
            os.makedirs(os.path.dirname(copy_path), exist_ok=True)
            blend_copies.write_note(copy_path, source=blend_path)
            bpy.ops.wm.save_as_mainfile(filepath=copy_path, copy=True, check_existing=False)
        except (OSError, RuntimeError) as exc:
            self.report({"ERROR"}, f"Could not save the copy to render ({copy_path}): {exc}")
            return False
        return True

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
        return (not batch_lifecycle.batch_running() and batch_lifecycle.can_resume()
                and (batch_lifecycle.interrupted_batch() is not None
                     or bool(batch_lifecycle.owned_elsewhere())))  # refused while it is owned

    def execute(self, context: bpy.types.Context) -> Result:
        try:
            batch_lifecycle.resume_batch(context.scene)
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
    """Cancel the running or paused batch (the current job stops, the rest never start)"""

    bl_idname = "renderplus.batch_cancel"
    bl_label = "Cancel Batch"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return batch_lifecycle.batch_busy()

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


PAUSE_ITEMS = [
    ("now", "Now", "Stop every Blender at once: the frame being rendered renders again on Continue"),
    ("frame", "After the Frame", "Let each job finish the frame it is rendering, then stop"),
    ("job", "After the Job", "Let the jobs rendering now finish, then stop before the next one"),
]


class RENDERPLUS_OT_batch_pause(bpy.types.Operator):
    """Pause the batch: no Blender renders until Continue (frames already written are kept)"""

    bl_idname = "renderplus.batch_pause"
    bl_label = "Pause Batch"

    when: EnumProperty(name="When", items=PAUSE_ITEMS, default="frame")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return batch_lifecycle.batch_running()

    def execute(self, context: bpy.types.Context) -> Result:
        try:
            queue_lifecycle.pause_batch(self.when)
        except bridge.BridgeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        label = next(label for key, label, _ in PAUSE_ITEMS if key == self.when)
        self.report({"INFO"}, f"Pausing the batch: {label.lower()}")
        return {"FINISHED"}


class RENDERPLUS_OT_batch_continue(bpy.types.Operator):
    """Continue the paused batch where it stopped: only what is missing renders"""

    bl_idname = "renderplus.batch_continue"
    bl_label = "Continue Batch"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return batch_lifecycle.batch_paused()

    def execute(self, context: bpy.types.Context) -> Result:
        try:
            queue_lifecycle.continue_paused()
        except bridge.BridgeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, "Continuing the batch")
        return {"FINISHED"}


CLASSES = (
    RENDERPLUS_OT_batch_render,
    RENDERPLUS_OT_batch_pause,
    RENDERPLUS_OT_batch_continue,

    RENDERPLUS_OT_batch_resume,
    RENDERPLUS_OT_job_messages,
    RENDERPLUS_OT_batch_cancel,
    RENDERPLUS_OT_job_cancel,
)

register, unregister = bpy.utils.register_classes_factory(CLASSES)
