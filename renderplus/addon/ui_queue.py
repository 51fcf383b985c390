# mypy: disable-error-code="union-attr"
"""What waits, in the N-panel: the running batch's queued jobs ("Up next": move, skip), the
pause menu, and the queue of batches behind it (move, remove, hold or continue the queue).

Draw only, like ``ui`` (which calls these): the queue is the copy the bridge's pump read last
(``bridge.state().queue``), the jobs are ``renderplus_run``; buttons name operators by
``bl_idname``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import bpy

from ..batch.view import BatchStatus
from . import bridge
from .run_io import queued_job_ids
from .schedule_text import entry_line, queue_end_line

PAUSING_TEXT = {"now": "now", "frame": "after the frame", "job": "after the job"}
UP_NEXT_ROWS = 8  # queued jobs listed; the rest are counted


class RENDERPLUS_MT_pause(bpy.types.Menu):
    bl_label = "Pause"

    def draw(self, context: bpy.types.Context | None) -> None:
        layout = self.layout
        items: tuple[tuple[str, str, Any], ...] = (
            ("now", "Now", "CANCEL"), ("frame", "After the Frame", "PAUSE"), ("job", "After the Job", "TIME"))
        for when, text, icon in items:
            layout.operator("renderplus.batch_pause", text=text, icon=icon).when = when


def draw_pause_row(layout: bpy.types.UILayout, run: Any) -> None:
    """Pause (a menu: now, after the frame, after the job) while the batch runs; Continue once
    it is paused; what a pause under way waits for."""
    row = layout.row(align=True)
    if run.status == BatchStatus.PAUSED:
        row.operator("renderplus.batch_continue", text="Continue", icon="PLAY")
    elif run.pausing:
        row.label(text=f"Pausing {PAUSING_TEXT.get(run.pausing, run.pausing)}...", icon="PAUSE")
    else:
        row.menu("RENDERPLUS_MT_pause", text="Pause", icon="PAUSE")


def draw_up_next(layout: bpy.types.UILayout, run: Any) -> None:
    """The batch's queued jobs in the order they will start, each with up, down and skip.

    The box keeps the height it had when the batch started (blank rows where started jobs
    were): a box that shrank at every job start would make Blender slide the panels below it
    over several redraws, each a stall under software OpenGL (bench/bench_gui.py)."""
    queued = queued_job_ids(run)
    others = sum(1 for state in run.jobs if state.status != "DISABLED") - 1
    rows = min(UP_NEXT_ROWS, max(others, len(queued)))
    if rows <= 0:
        return   # a one-job batch: nothing is ever next
    names = {state.job_id: state.name for state in run.jobs}
    box = layout.box()
    title = f"Up next in this batch ({len(queued)})" if queued else "Nothing else queued in this batch"
    box.label(text=title, icon="SORT_DESC")
    col = box.column(align=True)
    for position, job_id in enumerate(queued[:UP_NEXT_ROWS]):
        row = col.row(align=True)
        row.label(text=f"{position + 1}. {names.get(job_id, job_id)}")
        _move_buttons(row, "renderplus.batch_job_move", "job_id", job_id, position, len(queued))
        skip = row.operator("renderplus.batch_job_enable", text="", icon="HIDE_ON")
        skip.job_id, skip.enable = job_id, False
    for _ in range(rows - min(len(queued), UP_NEXT_ROWS)):
        col.label(text=" ")
    if len(queued) > UP_NEXT_ROWS:
        col.label(text=f"... and {len(queued) - UP_NEXT_ROWS} more")
    elif max(others, len(queued)) > UP_NEXT_ROWS:
        col.label(text=" ")


def draw_queue(layout: bpy.types.UILayout) -> None:
    """The batches queued behind the current one, first to start first; nothing without a queue."""
    queue = bridge.state().queue
    if queue is None or (not queue.entries and not queue.held):
        return
    box = layout.box()
    header = box.row().split(factor=0.58)
    held = ", held" if queue.held else ""
    header.label(text=f"Queue ({len(queue.entries)}{held})", icon="COLLAPSEMENU")
    if queue.held:
        header.operator("renderplus.queue_continue", text="Continue", icon="PLAY")
    else:
        header.operator("renderplus.queue_hold", text="Hold", icon="PAUSE")
    launches = bridge.state().queued_launches
    col = box.column(align=True)
    now = time.time()
    for position, entry in enumerate(queue.entries):
        row = col.row(align=True)
        name = os.path.splitext(os.path.basename(entry.name))[0] or f"Batch {entry.id}"
        row.label(text=f"{position + 1}. {name} · {entry.jobs} job{'s' if entry.jobs != 1 else ''}")
        _move_buttons(row, "renderplus.queue_move", "queue_id", entry.id, position, len(queue.entries))
        row.operator("renderplus.queue_remove", text="", icon="X").queue_id = entry.id
        details = [entry_line(entry, now)]
        launch = launches.get(entry.id)
        if launch is not None and launch.copy_path:
            details.append(f"Copy: {os.path.basename(launch.copy_path)}")
        for detail in filter(None, details):
            line = col.row()
            line.active = False
            line.label(text=detail)
    end = queue_end_line(queue, now)
    if end:
        box.label(text=end, icon="TIME")


def _move_buttons(row: bpy.types.UILayout, operator: str, key: str, value: int, position: int,
                  count: int) -> None:
    buttons: tuple[tuple[str, Any, bool], ...] = (("UP", "TRIA_UP", position > 0),
                                                  ("DOWN", "TRIA_DOWN", position < count - 1))
    for direction, icon, possible in buttons:
        cell = row.row(align=True)
        cell.enabled = possible
        button = cell.operator(operator, text="", icon=icon)
        setattr(button, key, value)
        button.direction = direction


CLASSES = (RENDERPLUS_MT_pause,)
ICONS = frozenset({"PAUSE", "PLAY", "SORT_DESC", "HIDE_ON", "COLLAPSEMENU", "X", "TRIA_UP",
                   "TRIA_DOWN", "CANCEL", "TIME"})

register, unregister = bpy.utils.register_classes_factory(CLASSES)
