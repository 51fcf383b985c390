# mypy: disable-error-code="valid-type"
# ruff: noqa: RUF012  (Blender reads bl_options as a plain class attribute)
"""Operators: build the job list from the scene, render it, cancel, run the server, import/export.

Operators run in Blender's main thread and talk to the batch only through ``bridge``. Editing
operators stay available while a batch runs: the batch renders a recipe made at its start, and
the UI links jobs to their batch state by ``uid``, not by position.
"""

from __future__ import annotations

import os
import re
from typing import Any, Literal

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty
from bpy_extras.io_utils import ExportHelper, ImportHelper

from . import bridge, recipe_io
from .batch.recipe import RecipeError
from .preferences import get_preferences, job_blender_bin
from .props import HOOK_PHASE_ITEMS, RenderPlusJob, RenderPlusSettings, copy_group, scene_settings

OUTPUT_FOLDER = "//renders"
Result = set[Literal["RUNNING_MODAL", "CANCELLED", "FINISHED", "PASS_THROUGH", "INTERFACE"]]


# --------------------------------------------------------------------------------------------
# Helpers


def settings_of(context: bpy.types.Context) -> RenderPlusSettings | None:
    """The scene's ``RenderPlusSettings`` (None without a scene)."""
    scene = context.scene
    return scene_settings(scene) if scene is not None else None


def active_job(context: bpy.types.Context) -> RenderPlusJob | None:
    settings = settings_of(context)
    if settings is None or not 0 <= settings.active_job_index < len(settings.jobs):
        return None
    return settings.jobs[settings.active_job_index]


def file_safe(text: str) -> str:
    """A name usable in a file name: letters, digits, ``._-``; other runs become ``_``."""
    return re.sub(r"[^\w.-]+", "_", text).strip("_.") or "job"


def new_job(settings: RenderPlusSettings, name: str) -> RenderPlusJob:
    """Append a job with a fresh uid and make it the active one."""
    job = settings.jobs.add()
    job.uid = settings.next_uid
    settings.next_uid += 1
    job.name = name
    settings.active_job_index = len(settings.jobs) - 1
    return job


def ensure_uids(settings: RenderPlusSettings) -> None:
    """Give every job a unique uid (jobs made by scripts or copied scenes may lack one)."""
    seen: set[int] = set()
    for job in settings.jobs:
        if job.uid <= 0 or job.uid in seen:
            job.uid = settings.next_uid
            settings.next_uid += 1
        seen.add(job.uid)
        settings.next_uid = max(settings.next_uid, job.uid + 1)


def fill_from_scene(job: RenderPlusJob, scene: bpy.types.Scene, *, camera: str, layer: str = "",
                    frame: int | None = None, animation: bool = False) -> None:
    """Point a job at ``scene`` with the scene's own frames, world and camera."""
    job.scene = scene.name
    job.camera = camera
    job.world = scene.world.name if scene.world is not None else ""
    job.layer = layer
    job.mode = "ANIMATION" if animation else "STILL"
    job.frame_still = scene.frame_current if frame is None else frame
    job.frame_start, job.frame_end = scene.frame_start, scene.frame_end
    job.output = f"{OUTPUT_FOLDER}/{file_safe(job.name)}_"


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


def _camera_names(scene: bpy.types.Scene) -> list[str]:
    return sorted(obj.name for obj in scene.objects if obj.type == "CAMERA")


# --------------------------------------------------------------------------------------------
# The job list


class RENDERPLUS_OT_job_add(bpy.types.Operator):
    """Add a job that renders the current scene through its active camera"""

    bl_idname = "renderplus.job_add"
    bl_label = "Add Job"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return context.scene is not None

    def execute(self, context: bpy.types.Context) -> Result:
        scene = context.scene
        assert scene is not None
        camera = scene.camera.name if scene.camera is not None else ""
        job = new_job(scene_settings(scene), f"{scene.name} - {camera}" if camera else scene.name)
        fill_from_scene(job, scene, camera=camera)
        if not camera:
            self.report({"WARNING"}, f"Scene '{scene.name}' has no camera: choose one for the job")
        return {"FINISHED"}


QUICK_SOURCES = [
    ("CAMERAS", "One Job per Camera", "A job for each camera in the scene"),
    ("SCENES", "One Job per Scene", "A job for each scene of the file, through its camera"),
    ("VIEW_LAYERS", "One Job per View Layer", "A job for each view layer of the scene"),
    ("MARKERS", "One Job per Marker", "A still job at each timeline marker (its bound camera if any)"),
]


class RENDERPLUS_OT_jobs_from(bpy.types.Operator):
    """Quick batch: add one job per camera, scene, view layer or timeline marker"""

    bl_idname = "renderplus.jobs_from"
    bl_label = "Quick Batch"
    bl_options = {"REGISTER", "UNDO"}

    source: EnumProperty(name="Source", items=QUICK_SOURCES, default="CAMERAS")
    animation: BoolProperty(name="Animation", description="Render each job's frame range "
                            "(markers always render their frame)", default=False)
    replace: BoolProperty(name="Replace Jobs", description="Remove the existing jobs first",
                          default=False)

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return context.scene is not None

    def execute(self, context: bpy.types.Context) -> Result:
        scene = context.scene
        assert scene is not None
        settings = scene_settings(scene)
        plan = self._plan(scene)
        if not plan:
            self.report({"WARNING"}, f"Nothing to add: the scene has no {self._noun()}")
            return {"CANCELLED"}
        if self.replace:
            settings.jobs.clear()
        for name, job_scene, camera, layer, frame in plan:
            job = new_job(settings, name)
            fill_from_scene(job, job_scene, camera=camera, layer=layer, frame=frame,
                            animation=self.animation and frame is None)
            if not camera:
                self.report({"WARNING"}, f"Job '{name}' has no camera: choose one")
        self.report({"INFO"}, f"Added {len(plan)} job(s), one per {self._noun().rstrip('s')}")
        return {"FINISHED"}

    def _noun(self) -> str:
        return {"CAMERAS": "cameras", "SCENES": "scenes", "VIEW_LAYERS": "view layers",
                "MARKERS": "timeline markers"}[self.source]

    def _plan(self, scene: bpy.types.Scene) -> list[tuple[str, bpy.types.Scene, str, str, int | None]]:
        """(job name, scene, camera, view layer, still frame or None) for each job to add."""
        scene_camera = scene.camera.name if scene.camera is not None else ""
        if self.source == "CAMERAS":
            return [(cam, scene, cam, "", None) for cam in _camera_names(scene)]
        if self.source == "SCENES":
            return [(each.name, each, each.camera.name if each.camera is not None else "", "", None)
                    for each in bpy.data.scenes]
        if self.source == "VIEW_LAYERS":
            return [(layer.name, scene, scene_camera, layer.name, None)
                    for layer in scene.view_layers]
        markers = sorted(scene.timeline_markers, key=lambda m: (m.frame, m.name))
        return [(m.name, scene, m.camera.name if m.camera is not None else scene_camera,
                 "", m.frame) for m in markers]


class RENDERPLUS_OT_job_remove(bpy.types.Operator):
    """Remove the active job"""

    bl_idname = "renderplus.job_remove"
    bl_label = "Remove Job"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return active_job(context) is not None

    def execute(self, context: bpy.types.Context) -> Result:
        settings = settings_of(context)
        if settings is None:
            return {"CANCELLED"}
        index = settings.active_job_index
        settings.jobs.remove(index)
        settings.active_job_index = min(index, len(settings.jobs) - 1) if len(settings.jobs) else 0
        return {"FINISHED"}


class RENDERPLUS_OT_job_duplicate(bpy.types.Operator):
    """Duplicate the active job, with all its settings, below it"""

    bl_idname = "renderplus.job_duplicate"
    bl_label = "Duplicate Job"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return active_job(context) is not None

    def execute(self, context: bpy.types.Context) -> Result:
        settings = settings_of(context)
        if settings is None:
            return {"CANCELLED"}
        index = settings.active_job_index
        source = settings.jobs[index]
        copy = settings.jobs.add()
        copy_group(settings.jobs[index], copy)
        copy.name = f"{source.name} (copy)"
        copy.uid = settings.next_uid
        settings.next_uid += 1
        settings.jobs.move(len(settings.jobs) - 1, index + 1)
        settings.active_job_index = index + 1
        return {"FINISHED"}


class RENDERPLUS_OT_job_move(bpy.types.Operator):
    """Move the active job up or down the list"""

    bl_idname = "renderplus.job_move"
    bl_label = "Move Job"
    bl_options = {"REGISTER", "UNDO"}

    direction: EnumProperty(name="Direction", items=[("UP", "Up", "Move up"), ("DOWN", "Down", "Move down")])

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return active_job(context) is not None

    def execute(self, context: bpy.types.Context) -> Result:
        settings = settings_of(context)
        if settings is None:
            return {"CANCELLED"}
        index = settings.active_job_index
        target = index - 1 if self.direction == "UP" else index + 1
        if not 0 <= target < len(settings.jobs):
            return {"CANCELLED"}
        settings.jobs.move(index, target)
        settings.active_job_index = target
        return {"FINISHED"}


class RENDERPLUS_OT_jobs_enable(bpy.types.Operator):
    """Enable or disable every job"""

    bl_idname = "renderplus.jobs_enable"
    bl_label = "Enable All Jobs"
    bl_options = {"REGISTER", "UNDO"}

    enable: BoolProperty(name="Enable", default=True)

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        settings = settings_of(context)
        return settings is not None and len(settings.jobs) > 0

    def execute(self, context: bpy.types.Context) -> Result:
        settings = settings_of(context)
        if settings is None:
            return {"CANCELLED"}
        for job in settings.jobs:
            job.enabled = self.enable
        return {"FINISHED"}


class RENDERPLUS_OT_jobs_clear(bpy.types.Operator):
    """Remove every job"""

    bl_idname = "renderplus.jobs_clear"
    bl_label = "Remove All Jobs"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        settings = settings_of(context)
        return settings is not None and len(settings.jobs) > 0

    def execute(self, context: bpy.types.Context) -> Result:
        settings = settings_of(context)
        if settings is None:
            return {"CANCELLED"}
        settings.jobs.clear()
        settings.active_job_index = 0
        return {"FINISHED"}


# --------------------------------------------------------------------------------------------
# Hooks and overrides


def _hook_collection(context: bpy.types.Context, phase: str) -> Any:
    settings = settings_of(context)
    if settings is None:
        return None
    if phase in ("PRE_BATCH", "POST_BATCH"):
        return getattr(settings, f"{phase.lower()}_hooks")
    job = active_job(context)
    return getattr(job, f"{phase.lower()}_hooks") if job is not None else None


class RENDERPLUS_OT_hook_add(bpy.types.Operator):
    """Add a shell command run before or after the batch or the job"""

    bl_idname = "renderplus.hook_add"
    bl_label = "Add Hook"
    bl_options = {"REGISTER", "UNDO"}

    phase: EnumProperty(name="When", items=HOOK_PHASE_ITEMS)

    def execute(self, context: bpy.types.Context) -> Result:
        hooks = _hook_collection(context, self.phase)
        if hooks is None:
            return {"CANCELLED"}
        hooks.add()
        return {"FINISHED"}


class RENDERPLUS_OT_hook_remove(bpy.types.Operator):
    """Remove this hook"""

    bl_idname = "renderplus.hook_remove"
    bl_label = "Remove Hook"
    bl_options = {"REGISTER", "UNDO"}

    phase: EnumProperty(name="When", items=HOOK_PHASE_ITEMS)
    index: IntProperty(name="Index", min=0)

    def execute(self, context: bpy.types.Context) -> Result:
        hooks = _hook_collection(context, self.phase)
        if hooks is None or self.index >= len(hooks):
            return {"CANCELLED"}
        hooks.remove(self.index)
        return {"FINISHED"}


class RENDERPLUS_OT_override_add(bpy.types.Operator):
    """Add a custom override: set a scene data path to a value for this job"""

    bl_idname = "renderplus.override_add"
    bl_label = "Add Override"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return active_job(context) is not None

    def execute(self, context: bpy.types.Context) -> Result:
        job = active_job(context)
        if job is None:
            return {"CANCELLED"}
        job.overrides.add()
        job.active_override_index = len(job.overrides) - 1
        return {"FINISHED"}


class RENDERPLUS_OT_override_remove(bpy.types.Operator):
    """Remove this custom override"""

    bl_idname = "renderplus.override_remove"
    bl_label = "Remove Override"
    bl_options = {"REGISTER", "UNDO"}

    index: IntProperty(name="Index", min=0)

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return active_job(context) is not None

    def execute(self, context: bpy.types.Context) -> Result:
        job = active_job(context)
        if job is None or self.index >= len(job.overrides):
            return {"CANCELLED"}
        job.overrides.remove(self.index)
        return {"FINISHED"}


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
        blender = job_blender_bin(get_preferences())
        if not blender:
            self.report({"ERROR"}, "No Blender binary to render with: set one in the add-on preferences")
            return {"CANCELLED"}
        ensure_uids(settings)
        blend_path = bpy.data.filepath
        needs_copy = any(job.enabled and not job.external for job in settings.jobs)
        copy_path = str(bridge.copy_path_for(blend_path)) if needs_copy else ""
        prefs = get_preferences()
        try:
            recipe = recipe_io.build_recipe(
                settings, blend_path=blend_path, copy_path=copy_path, blender_bin=blender,
                mail_password=prefs.mail_password if prefs is not None else "", abspath=resolve_path)
        except RecipeError as exc:
            _report_recipe_error(self, exc, "The batch cannot start")
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
                               copy_path=copy_path)
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
        bridge.stop_server()
        self.report({"INFO"}, "Batch server stopped")
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
                blender_bin=job_blender_bin(prefs),
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
    RENDERPLUS_OT_job_add,
    RENDERPLUS_OT_jobs_from,
    RENDERPLUS_OT_job_remove,
    RENDERPLUS_OT_job_duplicate,
    RENDERPLUS_OT_job_move,
    RENDERPLUS_OT_jobs_enable,
    RENDERPLUS_OT_jobs_clear,
    RENDERPLUS_OT_hook_add,
    RENDERPLUS_OT_hook_remove,
    RENDERPLUS_OT_override_add,
    RENDERPLUS_OT_override_remove,
    RENDERPLUS_OT_batch_render,
    RENDERPLUS_OT_batch_cancel,
    RENDERPLUS_OT_job_cancel,
    RENDERPLUS_OT_server_start,
    RENDERPLUS_OT_server_stop,
    RENDERPLUS_OT_recipe_export,
    RENDERPLUS_OT_recipe_import,
)

register, unregister = bpy.utils.register_classes_factory(CLASSES)
