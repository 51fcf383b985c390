# mypy: disable-error-code="union-attr"
# ruff: noqa: RUF012  (Blender reads bl_options as a plain class attribute)
# (The bpy stubs mark every RNA pointer optional, even Panel.layout and what UILayout.operator()
# returns; drawing code checks the pointers that really can be None: context.scene and friends.)
"""The N-panel (3D Viewport > Sidebar > Render+): draw only.

Panels read the scene's ``renderplus`` settings and the window manager's ``renderplus_run``
(which the bridge's pump keeps current through ``run_io``); they never change state themselves.
Buttons name operators by their ``bl_idname`` string, so this module never imports ``operators``.
The batch settings and server panels are in ``ui_settings``.
"""

from __future__ import annotations

import os
from typing import Any

import bpy

from . import bridge
from .batch.view import BatchStatus, JobStatus
from .props import QUICK_BATCH_ITEMS, active_job, run_state, scene_settings

CATEGORY = "Render+"
# The run-state properties hold statuses as text; the str enums compare and hash equal to it.
STATUS_ICONS: dict[str, str] = {
    JobStatus.QUEUED: "TIME",
    BatchStatus.WAITING: "TIME",
    JobStatus.RUNNING: "RENDER_ANIMATION",
    JobStatus.FINISHED: "CHECKMARK",
    JobStatus.FAILED: "ERROR",
    JobStatus.CANCELLED: "CANCEL",
    JobStatus.DISABLED: "HIDE_ON",
}
ENDED = frozenset(status.value for status in JobStatus if status.ended)
RUNNING, FINISHED, CANCELLED = JobStatus.RUNNING.value, JobStatus.FINISHED.value, JobStatus.CANCELLED.value
# UILayout.progress() exists from Blender 4.0; older versions show a read-only slider.
_LAYOUT_RNA: Any = bpy.types.UILayout.bl_rna
HAS_PROGRESS_WIDGET = "progress" in _LAYOUT_RNA.functions


def format_duration(seconds: float) -> str:
    """``4.2 s``, ``3 min 05 s``, ``2 h 07 min``; empty for an unknown (negative) time."""
    if seconds < 0:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def draw_progress(layout: bpy.types.UILayout, owner: Any, label: str = "") -> None:
    """A progress bar for ``owner.progress`` (0-100): "label 42%"."""
    if HAS_PROGRESS_WIDGET:
        value = owner.progress_value
        layout.progress(factor=value / 100.0, type="BAR", text=f"{label} {value:.0f}%".strip())
    else:  # the slider shows "label: 42%"
        layout.prop(owner, "progress", text=label, slider=True)


def job_state(context: bpy.types.Context, job: Any) -> Any:
    """The batch state of a scene job, or None when the shown batch does not include it."""
    wm = context.window_manager
    scene = job.id_data
    if wm is None or scene is None:
        return None
    index = bridge.job_state_index(scene.name, job.uid)
    states = run_state(wm).jobs
    return states[index] if index is not None and index < len(states) else None


class RENDERPLUS_UL_jobs(bpy.types.UIList):
    """The job list: enabled, name, status icon, and a progress bar while the job renders."""

    def draw_item(self, context: bpy.types.Context | None, layout: bpy.types.UILayout, data: Any | None,
                  item: Any | None, icon: int | None, active_data: Any, active_property: str | None,
                  index: int | None = 0, flt_flag: int | None = 0) -> None:
        if context is None or item is None:
            return
        state = job_state(context, item)
        status = state.status if state is not None else ""
        wm = context.window_manager
        batch_running = wm is not None and run_state(wm).status == RUNNING
        row = layout.row(align=True)
        row.prop(item, "enabled", text="")
        name = row.row(align=True)
        # While a batch runs, the rendering job stands out and the others are dimmed.
        name.active = item.enabled and (not batch_running or status in ("", RUNNING))
        default_icon = "RENDER_ANIMATION" if item.mode == "ANIMATION" else "RENDER_STILL"
        status_icon: Any = STATUS_ICONS.get(status, default_icon)  # the stubs want a Literal
        name.prop(item, "name", text="", emboss=False, icon=status_icon)
        if status == RUNNING or (status in ENDED and state.rendertime >= 0):
            extra = row.row(align=True)  # narrow and fixed: the name keeps the rest of the row
            extra.ui_units_x = 2.6
            if status == RUNNING:
                draw_progress(extra, state)
            else:
                extra.active = False
                extra.label(text=format_duration(state.rendertime))


class RENDERPLUS_MT_quick_batch(bpy.types.Menu):
    bl_label = "Quick Batch"

    def draw(self, context: bpy.types.Context | None) -> None:
        for source, label, _description in QUICK_BATCH_ITEMS:
            self.layout.operator("renderplus.jobs_from", text=label).source = source


class RENDERPLUS_MT_jobs(bpy.types.Menu):
    bl_label = "Jobs"

    def draw(self, context: bpy.types.Context | None) -> None:
        layout = self.layout
        layout.operator("renderplus.jobs_enable", text="Enable All", icon="CHECKBOX_HLT").enable = True
        layout.operator("renderplus.jobs_enable", text="Disable All", icon="CHECKBOX_DEHLT").enable = False
        layout.operator("renderplus.jobs_clear", icon="TRASH")
        layout.separator()
        layout.operator("renderplus.recipe_import", icon="IMPORT")
        layout.operator("renderplus.recipe_export", icon="EXPORT")


class SidebarPanel(bpy.types.Panel):
    """Not registered itself: the place in the UI that every Render+ panel shares."""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = CATEGORY


class RENDERPLUS_PT_main(SidebarPanel):
    bl_label = "Render+"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        scene = context.scene
        wm = context.window_manager
        if layout is None or scene is None or wm is None:
            return
        settings = scene_settings(scene)
        run = run_state(wm)

        row = layout.row()
        row.template_list("RENDERPLUS_UL_jobs", "", settings, "jobs", settings, "active_job_index", rows=5)
        col = row.column(align=True)
        col.operator("renderplus.job_add", icon="ADD", text="")
        col.operator("renderplus.job_remove", icon="REMOVE", text="")
        col.separator()
        col.menu("RENDERPLUS_MT_quick_batch", icon="OUTLINER_OB_CAMERA", text="")
        col.operator("renderplus.job_duplicate", icon="DUPLICATE", text="")
        col.menu("RENDERPLUS_MT_jobs", icon="DOWNARROW_HLT", text="")
        col.separator()
        col.operator("renderplus.job_move", icon="TRIA_UP", text="").direction = "UP"
        col.operator("renderplus.job_move", icon="TRIA_DOWN", text="").direction = "DOWN"

        if bridge.batch_running():
            _draw_running(layout, run)
        else:
            row = layout.row()
            row.scale_y = 1.5
            row.operator("renderplus.batch_render", icon="RENDER_ANIMATION")
            if run.status in (FINISHED, CANCELLED):
                _draw_results(layout, run)
        _draw_copy(layout, settings, run)


def _draw_running(layout: bpy.types.UILayout, run: Any) -> None:
    box = layout.box()
    total = sum(1 for job in run.jobs if job.status != JobStatus.DISABLED)
    done = sum(1 for job in run.jobs if job.status in ENDED)
    current = run.jobs[run.current_job] if 0 <= run.current_job < len(run.jobs) else None
    title = f"Rendering {current.name}" if current is not None else "Rendering"
    box.label(text=f"{title} ({min(done + 1, total)}/{total})", icon="RENDER_ANIMATION")
    draw_progress(box, run, "Batch")
    if current is not None:
        frame = min(current.frames_done + 1, current.frames_total)
        frames = f" (frame {frame}/{current.frames_total})" if current.frames_total > 1 else ""
        draw_progress(box, current, f"Job{frames}")
        if current.detail:
            box.label(text=current.detail)
    if run.eta >= 0:
        box.label(text=f"About {format_duration(run.eta)} left", icon="TIME")
    row = box.row(align=True)
    row.label(text="Cancel:")
    row.operator("renderplus.job_cancel", text="Job", icon="X")
    row.operator("renderplus.batch_cancel", text="Batch", icon="CANCEL")


def _draw_results(layout: bpy.types.UILayout, run: Any) -> None:
    box = layout.box()
    icon: Any = "CHECKMARK" if run.status == FINISHED and not run.failed else "ERROR"
    if run.status == CANCELLED:
        icon = "CANCEL"
    total = format_duration(run.rendertime)
    box.label(text=f"{run.status.title()} at {run.finished}" + (f" in {total}" if total else ""), icon=icon)
    col = box.column(align=True)
    if run.average_time >= 0:
        col.label(text=f"Average job: {format_duration(run.average_time)}")
    for label, index, seconds in (("Fastest", run.fastest_index, run.fastest_time),
                                  ("Slowest", run.slowest_index, run.slowest_time)):
        if 0 <= index < len(run.jobs) and seconds >= 0:
            col.label(text=f"{label}: {run.jobs[index].name} ({format_duration(seconds)})")
    if run.failed:
        col.label(text=f"{run.failed} job(s) failed", icon="ERROR")
    for line in run.messages.splitlines()[:6]:
        col.label(text=line)
    if run.poweroff:
        col.label(text=f"Pending: {run.poweroff}", icon="QUIT")


def _draw_copy(layout: bpy.types.UILayout, settings: Any, run: Any) -> None:
    """Say which file the batch renders: a saved copy, never the file being edited."""
    col = layout.column(align=True)
    col.scale_y = 0.8
    if run.copy_path:
        row = col.row(align=True)
        row.label(text="Renders a saved copy:", icon="FILE_BLEND")
        row.operator("wm.path_open", text="", icon="FILE_FOLDER").filepath = os.path.dirname(run.copy_path)
        col.label(text=run.copy_path)
    elif any(job.enabled and not job.external for job in settings.jobs):
        col.label(text="Will render a saved copy (edits stay safe):", icon="FILE_BLEND")
        col.label(text=str(bridge.copy_path_for(bpy.data.filepath, create=False)))
    elif len(settings.jobs):
        col.label(text="Every job renders its own external file", icon="FILE_BLEND")


class RENDERPLUS_PT_job(SidebarPanel):
    bl_label = "Job"
    bl_parent_id = "RENDERPLUS_PT_main"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        job = active_job(context)
        if layout is None:
            return
        if job is None:
            layout.label(text="Add a job to edit it here")
            return
        layout.use_property_split = True
        layout.use_property_decorate = False
        col = layout.column()
        col.prop(job, "name")
        col.prop(job, "enabled")
        col.prop(job, "external")
        if job.external:
            col.prop(job, "filepath")
            for key in ("scene", "camera", "world", "layer"):
                col.prop(job, key)
        else:
            scene = bpy.data.scenes.get(job.scene) or context.scene
            col.prop_search(job, "scene", bpy.data, "scenes")
            col.prop_search(job, "camera", scene, "objects", icon="OUTLINER_OB_CAMERA")
            col.prop_search(job, "world", bpy.data, "worlds")
            col.prop_search(job, "layer", scene, "view_layers")
        col.separator()
        col.row().prop(job, "mode", expand=True)
        if job.mode == "STILL":
            col.prop(job, "frame_still")
        else:
            sub = col.column(align=True)
            sub.prop(job, "frame_start")
            sub.prop(job, "frame_end")
        col.separator()
        col.prop(job, "engine")
        if job.engine == "OTHER":
            col.prop(job, "engine_other")
        if job.engine in ("CYCLES", "FILE"):
            sub = col.column(align=True)
            sub.prop(job, "cycles_samples", text="Cycles Samples")
            sub.prop(job, "cycles_device")
        col.prop(job, "threads")
        col.prop(job, "use_size")
        if job.use_size:
            col.prop(job, "size")
        col.separator()
        col.prop(job, "output")
        col.prop(job, "format")
        col.prop(job, "use_section")
        if job.use_section:
            sub = col.column(align=True)
            for key in ("section_x", "section_y", "section_width", "section_height"):
                sub.prop(job, key)
        _draw_job_state(layout, job_state(context, job))


def _draw_job_state(layout: bpy.types.UILayout, state: Any) -> None:
    if state is None or not state.status:
        return
    box = layout.box()
    status_icon: Any = STATUS_ICONS.get(state.status, "NONE")
    box.label(text=f"Last batch: {state.status.title()}", icon=status_icon)
    col = box.column(align=True)
    if state.started:
        finished = f", finished {state.finished}" if state.finished else ""
        col.label(text=f"Started {state.started}{finished}")
    if state.rendertime >= 0:
        col.label(text=f"Render time {format_duration(state.rendertime)}")
    if state.engine_type:
        col.label(text=f"Engine {state.engine_type}" + (f" | {state.detail}" if state.detail else ""))
    for line in state.messages.splitlines()[:8]:
        col.label(text=line, icon="ERROR")


class RENDERPLUS_PT_job_overrides(SidebarPanel):
    bl_label = "Custom Overrides"
    bl_parent_id = "RENDERPLUS_PT_job"
    bl_options = {"DEFAULT_CLOSED"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return active_job(context) is not None

    def draw(self, context: bpy.types.Context) -> None:
        job = active_job(context)
        layout = self.layout
        for index, override in enumerate(job.overrides):
            row = layout.row(align=True)
            row.prop(override, "enabled", text="")
            row.prop(override, "path", text="")
            row.prop(override, "value", text="")
            row.operator("renderplus.override_remove", text="", icon="X").index = index
        layout.operator("renderplus.override_add", icon="ADD")


def draw_hooks(layout: bpy.types.UILayout | None, hooks: Any, phase: str, label: str) -> None:
    if layout is None:
        return
    layout.label(text=label)
    for index, hook in enumerate(hooks):
        row = layout.row(align=True)
        row.prop(hook, "enabled", text="")
        row.prop(hook, "cmd", text="")
        remove = row.operator("renderplus.hook_remove", text="", icon="X")
        remove.phase, remove.index = phase, index
    layout.operator("renderplus.hook_add", text="Add Command", icon="ADD").phase = phase


class RENDERPLUS_PT_job_hooks(SidebarPanel):
    bl_label = "Job Hooks"
    bl_parent_id = "RENDERPLUS_PT_job"
    bl_options = {"DEFAULT_CLOSED"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return active_job(context) is not None

    def draw(self, context: bpy.types.Context) -> None:
        job = active_job(context)
        draw_hooks(self.layout, job.pre_job_hooks, "PRE_JOB", "Before the job")
        draw_hooks(self.layout, job.post_job_hooks, "POST_JOB", "After the job")


CLASSES = (
    RENDERPLUS_UL_jobs,
    RENDERPLUS_MT_quick_batch,
    RENDERPLUS_MT_jobs,
    RENDERPLUS_PT_main,
    RENDERPLUS_PT_job,
    RENDERPLUS_PT_job_overrides,
    RENDERPLUS_PT_job_hooks,
)

# Icons the panels use (here and in ui_settings), so a test can check Blender knows them all.
ICONS = frozenset(STATUS_ICONS.values()) | {
    "RENDER_STILL", "ADD", "REMOVE", "OUTLINER_OB_CAMERA", "DUPLICATE", "DOWNARROW_HLT", "TRIA_UP",
    "TRIA_DOWN", "X", "CANCEL", "CHECKMARK", "ERROR", "QUIT", "FILE_BLEND", "FILE_FOLDER", "LINKED",
    "UNLINKED", "PLAY", "PREFERENCES", "CHECKBOX_HLT", "CHECKBOX_DEHLT", "TRASH", "IMPORT", "EXPORT",
    "NONE", "INFO", "TIME",
}

register, unregister = bpy.utils.register_classes_factory(CLASSES)
