# mypy: disable-error-code="valid-type"
# ruff: noqa: RUF012  (Blender reads bl_options as a plain class attribute)
"""Operators that edit the job list: add, quick batches, remove, duplicate, move, enable, clear,
and each job's hooks and overrides.

They stay available while a batch runs: the batch renders a recipe made at its start, and the
UI links jobs to their batch state by ``uid``, not by position.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty

from .operator_common import Result
from .props import (
    HOOK_PHASE_ITEMS,
    QUICK_BATCH_ITEMS,
    active_job,
    claim_uid,
    copy_group,
    fill_from_scene,
    new_job,
    scene_settings,
    settings_of,
)
from .recipe_io import renumbered_after


class ActiveJobEdit(bpy.types.Operator):
    """Not registered itself: the base of the operators that edit the active job (or the list
    around it), undoable and available only while there is an active job."""

    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return active_job(context) is not None


class WholeListEdit(bpy.types.Operator):
    """Not registered itself: the base of the operators that change every job, undoable and
    available only while the list has jobs."""

    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        settings = settings_of(context)
        return settings is not None and len(settings.jobs) > 0


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


class RENDERPLUS_OT_jobs_from(bpy.types.Operator):
    """Quick batch: add one job per camera, scene, view layer or timeline marker"""

    bl_idname = "renderplus.jobs_from"
    bl_label = "Quick Batch"
    bl_options = {"REGISTER", "UNDO"}

    source: EnumProperty(name="Source", items=QUICK_BATCH_ITEMS, default="CAMERAS")
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


class RENDERPLUS_OT_job_remove(ActiveJobEdit):
    """Remove the active job"""

    bl_idname = "renderplus.job_remove"
    bl_label = "Remove Job"

    def execute(self, context: bpy.types.Context) -> Result:
        settings = settings_of(context)
        if settings is None:
            return {"CANCELLED"}
        index = settings.active_job_index
        settings.jobs.remove(index)
        _renumber(settings, lambda n: None if n == index else n - 1 if n > index else n)
        settings.active_job_index = min(index, len(settings.jobs) - 1) if len(settings.jobs) else 0
        return {"FINISHED"}


class RENDERPLUS_OT_job_duplicate(ActiveJobEdit):
    """Duplicate the active job, with all its settings, below it"""

    bl_idname = "renderplus.job_duplicate"
    bl_label = "Duplicate Job"

    def execute(self, context: bpy.types.Context) -> Result:
        settings = settings_of(context)
        if settings is None:
            return {"CANCELLED"}
        index = settings.active_job_index
        source = settings.jobs[index]
        copy = settings.jobs.add()
        copy_group(settings.jobs[index], copy)
        copy.name = f"{source.name} (copy)"
        copy.uid = claim_uid(settings)
        settings.jobs.move(len(settings.jobs) - 1, index + 1)
        _renumber(settings, lambda n: n + 1 if n > index else n)
        settings.active_job_index = index + 1
        return {"FINISHED"}


class RENDERPLUS_OT_job_move(ActiveJobEdit):
    """Move the active job up or down the list"""

    bl_idname = "renderplus.job_move"
    bl_label = "Move Job"

    direction: EnumProperty(name="Direction", items=[("UP", "Up", "Move up"), ("DOWN", "Down", "Move down")])

    def execute(self, context: bpy.types.Context) -> Result:
        settings = settings_of(context)
        if settings is None:
            return {"CANCELLED"}
        index = settings.active_job_index
        target = index - 1 if self.direction == "UP" else index + 1
        if not 0 <= target < len(settings.jobs):
            return {"CANCELLED"}
        settings.jobs.move(index, target)
        _renumber(settings, lambda n: target if n == index else index if n == target else n)
        settings.active_job_index = target
        return {"FINISHED"}


def _renumber(settings: Any, new_number: Callable[[int], int | None]) -> None:
    """Each job's "After Jobs" keeps naming the same jobs once the list's numbers changed."""
    for job in settings.jobs:
        if job.after.strip():
            job.after = renumbered_after(job.after, new_number)


class RENDERPLUS_OT_jobs_enable(WholeListEdit):
    """Enable or disable every job"""

    bl_idname = "renderplus.jobs_enable"
    bl_label = "Enable All Jobs"

    enable: BoolProperty(name="Enable", default=True)

    def execute(self, context: bpy.types.Context) -> Result:
        settings = settings_of(context)
        if settings is None:
            return {"CANCELLED"}
        for job in settings.jobs:
            job.enabled = self.enable
        return {"FINISHED"}


class RENDERPLUS_OT_jobs_clear(WholeListEdit):
    """Remove every job"""

    bl_idname = "renderplus.jobs_clear"
    bl_label = "Remove All Jobs"

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


class RENDERPLUS_OT_override_add(ActiveJobEdit):
    """Add a custom override: set a scene data path to a value for this job"""

    bl_idname = "renderplus.override_add"
    bl_label = "Add Override"

    def execute(self, context: bpy.types.Context) -> Result:
        job = active_job(context)
        if job is None:
            return {"CANCELLED"}
        job.overrides.add()
        job.active_override_index = len(job.overrides) - 1
        return {"FINISHED"}


class RENDERPLUS_OT_override_remove(ActiveJobEdit):
    """Remove this custom override"""

    bl_idname = "renderplus.override_remove"
    bl_label = "Remove Override"

    index: IntProperty(name="Index", min=0)

    def execute(self, context: bpy.types.Context) -> Result:
        job = active_job(context)
        if job is None or self.index >= len(job.overrides):
            return {"CANCELLED"}
        job.overrides.remove(self.index)
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
)

register, unregister = bpy.utils.register_classes_factory(CLASSES)
