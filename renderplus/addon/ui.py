# mypy: disable-error-code="union-attr"
# ruff: noqa: RUF012  (Blender reads bl_options as a plain class attribute)
# (The bpy stubs mark every RNA pointer optional, even Panel.layout and what UILayout.operator()
# returns; drawing code checks the pointers that really can be None: context.scene and friends.)
"""The N-panel (3D Viewport > Sidebar > Render+): draw only.

Panels read the scene's ``renderplus`` settings and the window manager's ``renderplus_run``
(which the bridge's pump keeps current through ``run_io``); they never change state themselves.
Buttons name operators by their ``bl_idname`` string, so this module never imports an operator
module.
The batch settings and server panels are in ``ui_settings``.
"""

from __future__ import annotations

import os
from typing import Any

import bpy

from ..batch.durations import format_duration
from ..batch.view import BatchStatus, JobStatus
from . import (
    batch_lifecycle,
    bridge,
    farm_choice,
    job_checks,
    ui_movie,
    ui_queue,
    ui_quit,
    ui_refresh,
    ui_schedule,
    ui_text,
)
from .engine_menu import ENGINE_NAMES
from .paths import user_dir
from .props import QUICK_BATCH_ITEMS, active_job, run_state, scene_settings, settings_of
from .run_io import failures_line, results_title
from .text_fit import extras_fit
from .ui_run import (
    BOX_INDENT,
    ENDED,
    RUNNING,
    draw_interrupted,
    draw_job_state,
    draw_owned_elsewhere,
    draw_running,
    draw_wrapped,
    wrap_width,
)

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
    BatchStatus.PAUSED: "PAUSE",
}
FINISHED, CANCELLED = JobStatus.FINISHED.value, JobStatus.CANCELLED.value
ROW_PADDING = 12.0  # pixels around a text in its own cell of a job list row


def job_state_at(context: bpy.types.Context, job: Any) -> tuple[int, Any]:
    """(row index, batch state) of a scene job; (-1, None) when the shown batch lacks it."""
    wm = context.window_manager
    scene = job.id_data
    if wm is None or scene is None:
        return -1, None
    index = batch_lifecycle.job_state_index(scene.name, job.uid)
    states = run_state(wm).jobs
    return (index, states[index]) if index is not None and index < len(states) else (-1, None)


def job_state(context: bpy.types.Context, job: Any) -> Any:
    """The batch state of a scene job, or None when the shown batch does not include it."""
    return job_state_at(context, job)[1]


def job_summary(job: Any) -> str:
    """A row's summary: camera, frames, engine ("Cam Left · 1-6 · Cycles")."""
    camera = job.camera or "scene camera"
    frames = f"{job.frame_start}-{job.frame_end}" if job.mode == "ANIMATION" else f"{job.frame_still}"
    engine = ENGINE_NAMES.get(job.engine, ("",))[0] or job.engine
    if job.engine == "OTHER":
        engine = job.engine_other.strip() or engine
    return f"{camera} · {frames} · {engine}"


class RENDERPLUS_UL_jobs(bpy.types.UIList):
    """The job list: one icon that is both the job's status and its Enabled toggle, the name,
    and after it, only where the whole name still fits, the job's time (or progress) and
    summary. (At the sidebar's default width a row holds the icon and the name, nothing else:
    the running job's progress is in the batch's box, its time in the Job panel.)"""

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
        row.prop(item, "enabled", text="", emboss=False, icon=row_icon(item.enabled, status))
        name = row.row(align=True)
        # While a batch runs, the rendering job stands out and the others are dimmed.
        name.active = item.enabled and (not batch_running or status in ("", RUNNING))
        name.prop(item, "name", text="", emboss=False)
        extras = [row_time(state, status), job_summary(item)]
        measure = ui_text.measurer(context)
        shown = extras_fit(item.name, extras, ui_text.list_row_room(context), ROW_PADDING, measure)
        for extra in shown:
            cell = row.row(align=True)
            cell.alignment = "RIGHT"
            cell.active = False
            cell.ui_units_x = (measure(extra) + ROW_PADDING) / (ui_text.UNIT * ui_text.scale(context))
            cell.label(text=extra)


def row_icon(enabled: bool, status: str) -> Any:
    """A row's one icon: the job's status in the shown batch while it is enabled, else its
    Enabled toggle (an empty box when disabled). The stubs want a Literal: typed Any."""
    if not enabled:
        return "CHECKBOX_DEHLT"
    return STATUS_ICONS.get(status, "CHECKBOX_HLT")


def row_time(state: Any, status: str) -> str:
    """A row's figure after the name: a running job's progress, an ended job's time."""
    if status == RUNNING:
        return f"{state.progress_value:.1f}%"
    if status in ENDED and state.rendertime >= 0:
        return format_duration(state.rendertime)
    return ""


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
        ui_refresh.panel_drawn(context.region)  # this sidebar shows Render+ (ui_refresh)
        layout = self.layout
        scene = context.scene
        wm = context.window_manager
        if layout is None or scene is None or wm is None:
            return
        settings = scene_settings(scene)
        run = run_state(wm)

        # The list takes the sidebar's whole width (its buttons in a row below it, not in a
        # column beside it): at the default width that is what lets a job's name be read.
        layout.template_list("RENDERPLUS_UL_jobs", "", settings, "jobs", settings, "active_job_index", rows=5)
        row = layout.row(align=True)
        row.operator("renderplus.job_add", icon="ADD", text="")
        row.operator("renderplus.job_remove", icon="REMOVE", text="")
        row.separator()
        row.menu("RENDERPLUS_MT_quick_batch", icon="OUTLINER_OB_CAMERA", text="")
        row.operator("renderplus.job_duplicate", icon="DUPLICATE", text="")
        row.menu("RENDERPLUS_MT_jobs", icon="DOWNARROW_HLT", text="")
        row.separator()
        row.operator("renderplus.job_move", icon="TRIA_UP", text="").direction = "UP"
        row.operator("renderplus.job_move", icon="TRIA_DOWN", text="").direction = "DOWN"

        if batch_lifecycle.batch_busy():
            draw_running(context, layout, run)
            ui_queue.draw_up_next(layout, run)
            layout.operator("renderplus.batch_render", text="Add to Queue", icon="ADD")
            ui_quit.draw_quit_choice(layout)
        else:
            interrupted = batch_lifecycle.interrupted_batch()
            if interrupted is not None:
                draw_interrupted(context, layout, interrupted, batch_lifecycle.can_resume())
            elif batch_lifecycle.owned_elsewhere():
                draw_owned_elsewhere(context, layout, batch_lifecycle.owned_elsewhere())
            row = layout.row()
            row.scale_y = 1.5
            row.operator("renderplus.batch_render", icon="RENDER_ANIMATION")
            ui_quit.draw_quit_choice(layout)
            ui_schedule.draw_estimate(layout, settings, wrap_width(context))
            _draw_rendering_blender(layout)
            farm_choice.draw_where(layout, wrap_width(context))
            if run.status in (FINISHED, CANCELLED) and batch_lifecycle.shows_batch() and interrupted is None:
                _draw_batch_results(context, layout, run)
        ui_queue.draw_queue(layout)
        _draw_rendered_file(context, layout, settings, run)


def _draw_rendering_blender(layout: bpy.types.UILayout) -> None:
    """Which Blender renders the jobs, and whether it is known yet (asked in a thread)."""
    binary = batch_lifecycle.rendering_binary()
    info = bridge.binary_info(binary)
    row = layout.row()
    row.scale_y = 0.8
    if info is None:
        row.label(text=f"Checking {os.path.basename(binary)}...", icon="TIME")
    elif info.problem:
        row.alert = True
        row.label(text=info.problem, icon="ERROR")
    else:
        row.active = False
        row.label(text=f"Renders with Blender {info.version}", icon="BLENDER")


def _draw_batch_results(context: bpy.types.Context, layout: bpy.types.UILayout, run: Any) -> None:
    box = layout.box()
    icon: Any = "CHECKMARK" if run.status == FINISHED and not run.failed else "ERROR"
    if run.status == CANCELLED:
        icon = "CANCEL"
    box.label(text=results_title(run.status, run.finished, run.rendertime), icon=icon)
    col = box.column(align=True)
    if run.average_time >= 0:
        col.label(text=f"Average job: {format_duration(run.average_time)}")
    for label, index, seconds in (("Fastest", run.fastest_index, run.fastest_time),
                                  ("Slowest", run.slowest_index, run.slowest_time)):
        if 0 <= index < len(run.jobs) and seconds >= 0:
            col.label(text=f"{label}: {run.jobs[index].name} ({format_duration(seconds)})")
    failed, messages = failures_line(run.messages, run.failed, len(run.jobs))
    if failed:
        col.label(text=failed, icon="ERROR")
    if messages:
        draw_wrapped(col, messages, wrap_width(context, BOX_INDENT), max_lines=8)
    if run.poweroff:
        col.label(text=f"Pending: {run.poweroff}", icon="QUIT")


def _draw_rendered_file(context: bpy.types.Context, layout: bpy.types.UILayout, settings: Any,
                        run: Any) -> None:
    """Say which file the batch renders: a saved copy, never the file being edited."""
    col = layout.column(align=True)
    col.scale_y = 0.8
    if run.copy_path:
        row = col.row(align=True)
        row.label(text="Renders a saved copy:", icon="FILE_BLEND")
        row.operator("wm.path_open", text="", icon="FILE_FOLDER").filepath = os.path.dirname(run.copy_path)
        col.label(text=run.copy_path)
    elif any(job.enabled and not job.external for job in settings.jobs):
        draw_wrapped(col, "Each batch renders its own saved copy, in:", wrap_width(context),
                     icon="FILE_BLEND")
        col.label(text=str(user_dir("copies", create=False)))
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
        # First what matters most: what would fail, then how the last batch went (why it failed).
        _draw_problems(context, layout, job)
        index, state = job_state_at(context, job)
        draw_job_state(context, layout, state, index, STATUS_ICONS)
        layout.use_property_split = True
        layout.use_property_decorate = False
        col = layout.column()
        col.prop(job, "name")
        col.prop(job, "enabled")
        settings = settings_of(context)
        number = settings.active_job_index if settings is not None else 0
        col.prop(job, "after", text=f"After Jobs (this is {number})")
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
        ui_movie.draw_movie_settings(layout, job, wrap_width(context, BOX_INDENT))


def _draw_problems(context: bpy.types.Context, layout: bpy.types.UILayout, job: Any) -> None:
    """What would make this job fail now (Render checks every job the same way)."""
    if not job.enabled or batch_lifecycle.batch_busy():
        return
    binary = bridge.binary_info(batch_lifecycle.rendering_binary())
    problems = job_checks.job_problems(job, **batch_lifecycle.check_arguments(context.scene, binary))
    if not problems:
        return
    box = layout.box()
    box.alert = True
    width = wrap_width(context, BOX_INDENT)
    for problem in problems:
        draw_wrapped(box, problem, width, icon="ERROR")


class RENDERPLUS_PT_job_overrides(SidebarPanel):
    bl_label = "Custom Overrides"
    bl_parent_id = "RENDERPLUS_PT_job"
    bl_options = {"DEFAULT_CLOSED"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return active_job(context) is not None

    def draw(self, context: bpy.types.Context) -> None:
        """Each override as two labelled rows (Path, Value), so that the fields read at the
        sidebar's width; one the check before Render would refuse is drawn in red (the Job
        panel says why)."""
        job = active_job(context)
        layout = self.layout
        bad = _bad_overrides(context, job)
        for index, override in enumerate(job.overrides):
            column = layout.column(align=True)
            column.alert = index in bad
            row = column.row(align=True)
            row.prop(override, "enabled", text="")
            row.prop(override, "path", text="Path")
            row.operator("renderplus.override_remove", text="", icon="X").index = index
            row = column.row(align=True)
            row.label(icon="BLANK1")  # under the checkbox: the two fields line up
            row.prop(override, "value", text="Value")
        layout.operator("renderplus.override_add", icon="ADD")


def _bad_overrides(context: bpy.types.Context, job: Any) -> dict[int, str]:
    """The overrides of ``job`` the check before Render would refuse, by index."""
    if not job.enabled or job.external or not job.overrides or batch_lifecycle.batch_busy():
        return {}
    binary = bridge.binary_info(batch_lifecycle.rendering_binary())
    arguments = batch_lifecycle.check_arguments(context.scene, binary)
    settings = job_checks.judges_settings(arguments["binary"], arguments["file_version"])
    return job_checks.override_findings(job, arguments["data"], arguments["default_scene"], settings=settings)


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

# Icons the panels use (here, in ui_settings and ui_server), so a test can check Blender knows them all.
ICONS = frozenset(STATUS_ICONS.values()) | {
    "RENDER_STILL", "ADD", "REMOVE", "OUTLINER_OB_CAMERA", "DUPLICATE", "DOWNARROW_HLT", "TRIA_UP",
    "TRIA_DOWN", "X", "CANCEL", "CHECKMARK", "ERROR", "QUIT", "FILE_BLEND", "FILE_FOLDER", "LINKED",
    "UNLINKED", "PLAY", "PREFERENCES", "CHECKBOX_HLT", "CHECKBOX_DEHLT", "TRASH", "IMPORT", "EXPORT",
    "NONE", "INFO", "TIME", "BLANK1", "BLENDER", "TEXT", "FILE_IMAGE", "IMAGE_DATA", "COPYDOWN", "URL",
} | ui_queue.ICONS | ui_movie.ICONS

register, unregister = bpy.utils.register_classes_factory(CLASSES)
