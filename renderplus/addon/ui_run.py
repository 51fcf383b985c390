# mypy: disable-error-code="union-attr"
"""What the panels show of a batch: the jobs rendering now (or that it is paused), the time left,
an interrupted batch, and for the selected job why it failed (in full), where its frames went
and its last frame.

Draw only, like ``ui`` (which calls these); buttons name operators by ``bl_idname``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import bpy

from ..batch.durations import format_duration
from ..batch.view import BatchStatus, BatchView, JobStatus
from . import thumbnails, ui_movie, ui_queue, ui_text
from .props import run_state
from .schedule_text import job_time_left, runs_said, time_left, waiting_line
from .text_fit import LineWidth, wrap_lines

RUNNING = JobStatus.RUNNING.value
ENDED = frozenset(status.value for status in JobStatus if status.ended)
LABEL_INDENT = 1.5  # UI units before a label's text: its icon and padding
BOX_INDENT = 2.0  # ... in a box
THUMBNAIL_SCALE = 7.0
RUNNING_THUMBNAIL_SCALE = 5.0
PARTIAL_ROWS = 4  # jobs cut short listed in the interrupted batch's box
# UILayout.progress() exists from Blender 4.0; older versions show a read-only slider.
_LAYOUT_RNA: Any = bpy.types.UILayout.bl_rna
HAS_PROGRESS_WIDGET = "progress" in _LAYOUT_RNA.functions


def done_about(seconds: float) -> str:
    """"Done about 22:45" for ``seconds`` from now; empty while unknown."""
    return f"Done about {time.strftime('%H:%M', time.localtime(time.time() + seconds))}" \
        if seconds >= 0 else ""


def draw_progress(layout: bpy.types.UILayout, owner: Any, label: str = "") -> None:
    """A progress bar for ``owner.progress`` (0-100) with one decimal: "label 42.5%"."""
    if HAS_PROGRESS_WIDGET:
        value = owner.progress_value
        layout.progress(factor=min(max(value / 100.0, 0.0), 1.0), type="BAR",
                        text=f"{label} {value:.1f}%".strip())
    else:  # the slider shows "label: 42.5%" (the property rounds to one decimal)
        layout.prop(owner, "progress", text=label, slider=True)


def wrap_width(context: bpy.types.Context, indent: float = LABEL_INDENT) -> LineWidth:
    """The room for a line of text in the region being drawn, measured in pixels with the UI's
    font (a count of characters cut lines with quotes and capitals in 5.2); ``indent``: UI
    units before the text (an icon; a box's margins too: ``BOX_INDENT``)."""
    return ui_text.line_width(context, indent)


def draw_wrapped(layout: bpy.types.UILayout, text: str, width: int | LineWidth, icon: str = "NONE",
                 max_lines: int = 0) -> bool:
    """Labels for ``text`` wrapped to ``width``; the first line gets ``icon``. True when
    ``max_lines`` cut it short."""
    lines = wrap_lines(text, width)
    shown = lines[:max_lines] if max_lines else lines
    col = layout.column(align=True)
    for number, line in enumerate(shown):
        line_icon: Any = icon if number == 0 or icon == "NONE" else "BLANK1"  # keeps the indent
        col.label(text=line, icon=line_icon)
    return len(shown) < len(lines)


def draw_running(context: bpy.types.Context, layout: bpy.types.UILayout, run: Any) -> None:
    """The batch's bar, then one box per job rendering now (several with parallel slots)."""
    box = layout.box()
    total = sum(1 for job in run.jobs if job.status != JobStatus.DISABLED)
    done = sum(1 for job in run.jobs if job.status in ENDED)
    running = [job for job in run.jobs if job.status == RUNNING]
    paused = run.status == BatchStatus.PAUSED
    waiting = run.status == BatchStatus.WAITING
    if paused or waiting:
        title = "Paused" if paused else "Waiting"
    elif len(running) == 1:
        title = f"Rendering {running[0].name}"
    else:
        title = f"Rendering {len(running)} jobs" if running else "Rendering"
    box.label(text=f"{title} ({min(done + len(running), total)}/{total})",
              icon="PAUSE" if paused else "TIME" if waiting else "RENDER_ANIMATION")
    draw_progress(box, run, "Batch")
    waits_for = waiting_line(run.status, run.starts_at, run.continues_at)
    if waits_for:
        box.label(text=waits_for, icon="TIME")
    if waiting and run.eta >= 0:
        box.label(text=f"Then about {format_duration(run.eta)} of rendering")
    elif not paused and not waiting:
        # two lines, always (one cut "About 25.7 ...bout 12:27" at the default width; a
        # line that comes and goes would slide the panels below)
        col = box.column(align=True)
        col.label(text=time_left(run.eta), icon="TIME")
        col.label(text=done_about(run.eta) or " ", icon="BLANK1")
    if not running and not paused and not waiting and done < total:
        # Between two jobs (one ended, the next one's Blender not started yet) the rows stay:
        # a box that shrank and grew back would slide the panels below twice per job start.
        col = box.column(align=True)
        col.label(text="Starting the next job...", icon="BLANK1")
        col.label(text=" ")
        col.template_icon(icon_value=0, scale=RUNNING_THUMBNAIL_SCALE)
    for job in running:
        col = box.column(align=True)
        if len(running) > 1:
            col.label(text=job.name, icon="RENDER_ANIMATION")
        frame = min(job.frames_done + 1, job.frames_total)
        frames = f" (frame {frame}/{job.frames_total})" if job.frames_total > 1 else ""
        draw_progress(col, job, f"Job{frames}")
        # Rows keep their place while the job runs (an empty detail line, an empty thumbnail
        # slot): when the panel's height changes, Blender slides the panels below it over
        # several redraws, each a stall of its own under software OpenGL (bench/bench_gui.py).
        col.label(text=job.detail or " ")
        ui_movie.draw_movie_state(col, job, wrap_width(context, BOX_INDENT))  # encoding after the frames
        icon_value = thumbnails.icon_id(job.last_output)  # the frame it wrote last, as it renders
        if not icon_value and thumbnails.too_large_now(job.last_output):
            col.label(text="Thumbnail when the job has finished", icon="IMAGE_DATA")
        else:
            col.template_icon(icon_value=icon_value, scale=RUNNING_THUMBNAIL_SCALE)
    if not waiting:
        ui_queue.draw_pause_row(box, run)
    row = box.row(align=True)
    row.label(text="Cancel:")
    if not paused and not waiting:
        row.operator("renderplus.job_cancel", text="Job", icon="X")
    row.operator("renderplus.batch_cancel", text="Batch", icon="CANCEL")


def draw_interrupted(context: bpy.types.Context, layout: bpy.types.UILayout, view: BatchView,
                     can_resume: bool) -> None:
    """A batch that Blender's quit or crash cut short, the frames it kept, and the button that
    resumes it."""
    box = layout.box()
    width = wrap_width(context, BOX_INDENT)
    enabled = view.enabled_jobs
    finished = sum(1 for job in enabled if job.status is JobStatus.FINISHED)
    draw_wrapped(box, "A batch was interrupted (Blender quit or crashed)", width, icon="ERROR")
    name = os.path.basename(view.name) if view.name else "Batch"
    draw_wrapped(box, f"{name}: {finished} of {len(enabled)} job(s) finished", width, icon="BLANK1")
    for line in partial_jobs(view)[:PARTIAL_ROWS]:   # what Resume continues, not renders again
        draw_wrapped(box, line, width, icon="IMAGE_DATA")
    row = box.row()
    row.enabled = can_resume
    row.operator("renderplus.batch_resume", icon="PLAY")


def partial_jobs(view: BatchView) -> list[str]:
    """"Turntable: 12 of 48 frames" for each job the interruption cut short with frames kept
    (Resume renders only its missing frames)."""
    return [f"{job.name}: {job.frames_done} of {job.frames_total} frames kept"
            for job in view.enabled_jobs
            if job.status is not JobStatus.FINISHED and job.frames_done > 0]


def draw_owned_elsewhere(context: bpy.types.Context, layout: bpy.types.UILayout,
                         sentence: str) -> None:
    """The store's batch runs in another Render+ (a server, another Blender): not resumable."""
    box = layout.box()
    box.label(text="The last batch runs in another Render+", icon="LOCKED")
    draw_wrapped(box, sentence, wrap_width(context, BOX_INDENT))
    box.operator("renderplus.batch_resume", icon="PLAY")   # takes it over once that one ended


def draw_job_state(context: bpy.types.Context, layout: bpy.types.UILayout, state: Any,
                   state_index: int, icons: dict[str, str]) -> None:
    """The selected job in the last batch: status, times, the full failure, its frames."""
    if state is None or not state.status:
        return
    box = layout.box()
    status_icon: Any = icons.get(state.status, "NONE")
    box.label(text=f"Last batch: {state.status.title()}", icon=status_icon)
    col = box.column(align=True)
    running = state.status == RUNNING
    # A running job has as many rows as it will have once finished (started, finished or the
    # time left, render time): the selection follows the job that starts, and a box that
    # changed height would slide the panels below it (draw_running).
    if state.started:
        col.label(text=f"Started {state.started}")
    if state.finished:
        col.label(text=f"Finished {state.finished}")
    elif running:
        wm = context.window_manager
        batch_eta = run_state(wm).eta if wm is not None else -1.0
        col.label(text=job_time_left(state.eta, state.eta_runs, batch_eta), icon="TIME")
    if state.rendertime >= 0:
        col.label(text=f"Render time {format_duration(state.rendertime)}")
    elif running:
        col.label(text=" ")
    if state.status == JobStatus.QUEUED and state.eta >= 0:
        col.label(text=f"Estimated {format_duration(state.eta)}{runs_said(state.eta_runs)}",
                  icon="TIME")
    if state.engine_type or running:   # a running job's rows keep their place (draw_running)
        engine = f"Engine {state.engine_type}" if state.engine_type else " "
        col.label(text=engine + (f" | {state.detail}" if state.detail else ""))
    if state.blender or running:
        col.label(text=f"With {state.blender}" if state.blender else " ", icon="BLENDER")
    ui_movie.draw_movie_state(box, state, wrap_width(context, BOX_INDENT))
    if state.messages:
        width = wrap_width(context, BOX_INDENT)
        icon = "ERROR" if state.status == JobStatus.FAILED else "INFO"
        cut = draw_wrapped(box, state.messages, width, icon=icon, max_lines=12)
        text = "Show the whole message" if cut else "Show in a window"
        box.operator("renderplus.job_messages", text=text, icon="TEXT").index = state_index
    _draw_outputs(box, state)


def _reserve_outputs(layout: bpy.types.UILayout, state: Any) -> None:
    """The rows ``_draw_outputs`` will fill once a running job's first frame is written, empty:
    the box keeps its height, so the panels below do not slide (draw_running)."""
    col = layout.column(align=True)
    col.label(text="No frame written yet", icon="FILE_IMAGE")
    if state.frames_total > 1:
        col.label(text=" ")
    col.label(text=" ")
    layout.template_icon(icon_value=0, scale=THUMBNAIL_SCALE)
    row = layout.row()
    row.enabled = False
    row.operator("wm.path_open", text="Open Last Frame", icon="IMAGE_DATA")


def _draw_outputs(layout: bpy.types.UILayout, state: Any) -> None:
    """Where the job's frames went (and a button that opens the folder) and its last frame."""
    if not state.output_count:
        if state.status == RUNNING:
            _reserve_outputs(layout, state)
        return
    col = layout.column(align=True)
    row = col.row(align=True)
    count = state.output_count
    row.label(text=f"{count} frame{'s' if count != 1 else ''} in {state.output_folder}", icon="FILE_IMAGE")
    row.operator("wm.path_open", text="", icon="FILE_FOLDER").filepath = state.output_folder
    if state.frames_total > 1:  # from the first frame on, so the panel does not grow at the second
        col.label(text=f"First: {state.first_output}")
    col.label(text=f"Last: {state.last_output}")
    icon_value = thumbnails.icon_id(state.last_output, may_defer=state.status != RUNNING)
    if icon_value:
        layout.template_icon(icon_value=icon_value, scale=THUMBNAIL_SCALE)
    row = layout.row()
    row.operator("wm.path_open", text="Open Last Frame", icon="IMAGE_DATA").filepath = state.last_output
