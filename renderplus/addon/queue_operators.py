# mypy: disable-error-code="valid-type"
"""Operators of what waits: the queued batches (move, remove, hold, continue the queue) and the
running batch's queued jobs (move up or down, skip).

Like the other operator modules they act only through a lifecycle (``queue_lifecycle``), which
calls the service and lets the pump show the result; positions are worked out from what the
panel shows (the pump's copy of the queue and of the run order).
"""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty

from . import batch_lifecycle, bridge, queue_lifecycle
from .operator_common import Result
from .props import run_state
from .run_io import queued_job_ids

DIRECTION_ITEMS = [("UP", "Up", "Start earlier"), ("DOWN", "Down", "Start later")]


def _step(direction: str) -> int:
    return -1 if direction == "UP" else 1


class QueueAction(bpy.types.Operator):
    """Not registered itself: runs ``act()``; a refusal is reported as the service's sentence."""

    def act(self, context: bpy.types.Context) -> None:
        raise NotImplementedError

    def execute(self, context: bpy.types.Context) -> Result:
        try:
            self.act(context)
        except bridge.BridgeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"FINISHED"}


def queued_batch_ids() -> list[int]:
    """The queued batches' ids, first to start first (the pump's copy of the queue)."""
    queue = bridge.state().queue
    return [entry.id for entry in queue.entries] if queue is not None else []


class RENDERPLUS_OT_queue_move(QueueAction):
    """Move this queued batch up or down the queue: it starts earlier or later"""

    bl_idname = "renderplus.queue_move"
    bl_label = "Move Queued Batch"

    queue_id: IntProperty(name="Queued Batch", default=-1)
    direction: EnumProperty(items=DIRECTION_ITEMS)

    def act(self, context: bpy.types.Context) -> None:
        ids = queued_batch_ids()
        if self.queue_id not in ids:
            raise bridge.BridgeError("That batch is no longer queued")
        queue_lifecycle.move_queued(self.queue_id, ids.index(self.queue_id) + _step(self.direction))


class RENDERPLUS_OT_queue_remove(QueueAction):
    """Remove this batch from the queue (it never renders; its saved copy is deleted)"""

    bl_idname = "renderplus.queue_remove"
    bl_label = "Remove Queued Batch"

    queue_id: IntProperty(name="Queued Batch", default=-1)

    def act(self, context: bpy.types.Context) -> None:
        queue_lifecycle.drop_queued(self.queue_id)


class RENDERPLUS_OT_queue_hold(QueueAction):
    """Hold the queue: the batch rendering now goes on, the queued ones wait until you continue"""

    bl_idname = "renderplus.queue_hold"
    bl_label = "Hold Queue"

    def act(self, context: bpy.types.Context) -> None:
        queue_lifecycle.hold_queue()


class RENDERPLUS_OT_queue_continue(QueueAction):
    """Continue the queue: the next batch starts as soon as none renders or is paused"""

    bl_idname = "renderplus.queue_continue"
    bl_label = "Continue Queue"

    def act(self, context: bpy.types.Context) -> None:
        queue_lifecycle.continue_queue()


class RENDERPLUS_OT_batch_job_move(QueueAction):
    """Move this queued job of the batch up or down: it starts earlier or later"""

    bl_idname = "renderplus.batch_job_move"
    bl_label = "Move Queued Job"

    job_id: IntProperty(name="Job", default=-1)
    direction: EnumProperty(items=DIRECTION_ITEMS)

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return batch_lifecycle.batch_busy()

    def act(self, context: bpy.types.Context) -> None:
        wm = context.window_manager
        queued = queued_job_ids(run_state(wm)) if wm is not None else []
        if self.job_id not in queued:
            raise bridge.BridgeError("That job is no longer queued")
        queue_lifecycle.move_job(self.job_id, queued.index(self.job_id) + _step(self.direction))


class RENDERPLUS_OT_batch_job_enable(QueueAction):
    """Skip this queued job of the batch (it does not render), or take a skipped one back"""

    bl_idname = "renderplus.batch_job_enable"
    bl_label = "Skip Queued Job"

    job_id: IntProperty(name="Job", default=-1)
    enable: BoolProperty(name="Enable", default=False)

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return batch_lifecycle.batch_busy()

    def act(self, context: bpy.types.Context) -> None:
        queue_lifecycle.set_job_enabled(self.job_id, self.enable)


CLASSES = (
    RENDERPLUS_OT_queue_move,
    RENDERPLUS_OT_queue_remove,
    RENDERPLUS_OT_queue_hold,
    RENDERPLUS_OT_queue_continue,
    RENDERPLUS_OT_batch_job_move,
    RENDERPLUS_OT_batch_job_enable,
)

register, unregister = bpy.utils.register_classes_factory(CLASSES)
