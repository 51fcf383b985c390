"""In the bpy wheel: the queue and the pause from the N-panel. A long batch renders; Render
again queues the next ones ("Add to Queue"); the queue box moves, holds, continues and removes
them; the batch's queued jobs move and are skipped; Pause (now) leaves it PAUSED, drawn as
such, and Continue renders again. Every panel is drawn at each step (ui_scenario's checking
layout). The service, its queue and pause, and the renders (real Blender 3.4) are real.

Arguments (JSON): zip, blend (3.4 fixture), out.
"""

from __future__ import annotations

import os
from typing import Any

import harness
import ui_scenario


def labels(drawn: dict[str, Any]) -> list[str]:
    return list(drawn["labels"])


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    bridge = harness.submodule(addon, "bridge")
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.blender_bin = "/usr/bin/blender"
    state = bridge.state()
    ops = bpy.ops.renderplus
    out: dict[str, Any] = {}

    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    settings = bpy.context.scene.renderplus
    ops.jobs_from(source="CAMERAS")  # Camera, Cam2
    ops.job_add()                    # a third job: two queued behind the one rendering
    for index, job in enumerate(settings.jobs):
        job.external, job.filepath = True, args["blend"]
        job.mode, job.frame_start, job.frame_end = "ANIMATION", 1, 200 if index == 0 else 1
        job.output = os.path.join(args["out"], f"job{index}_")
    ops.batch_render()
    service = state.service
    run = bpy.context.window_manager.renderplus_run
    out["reached_running"] = harness.pump_until(
        bridge.pump, lambda: run.status == "RUNNING" and run.jobs[0].status == "RUNNING", timeout=90)
    out["running"] = ui_scenario.draw_everything(addon)

    ops.batch_render()  # a batch runs: these two are queued
    ops.batch_render()
    bridge.pump()
    out["queue_after_add"] = [[entry.id, entry.position] for entry in state.queue.entries]
    out["queued"] = ui_scenario.draw_everything(addon)
    first, second = (entry.id for entry in state.queue.entries)
    ops.queue_move(queue_id=second, direction="UP")
    out["queue_after_move"] = [entry.id for entry in state.queue.entries]
    ops.queue_hold()
    out["held"] = ui_scenario.draw_everything(addon)
    ops.queue_continue()
    ops.batch_job_move(job_id=2, direction="UP")      # queued jobs 1, 2: job 2 goes first
    ops.batch_job_enable(job_id=1, enable=False)      # job 1 is skipped
    out["order_after_edits"] = list(service.batch.view().order)
    bridge.pump()
    out["statuses_after_edits"] = [job.status for job in run.jobs]
    try:
        ops.batch_job_move(job_id=0, direction="DOWN")  # the running job is not queued
        out["running_job_move"] = "accepted"
    except RuntimeError as exc:
        out["running_job_move"] = str(exc)

    ops.batch_pause(when="now")
    out["reached_paused"] = harness.pump_until(bridge.pump, lambda: run.status == "PAUSED", timeout=60)
    out["paused_flag"] = service.paused
    out["paused"] = ui_scenario.draw_everything(addon)
    out["job_statuses_paused"] = [job.status for job in run.jobs]
    ops.batch_render()  # while paused: queued too
    ops.queue_remove(queue_id=first)
    out["queue_after_remove"] = [entry.id for entry in state.queue.entries]
    try:
        ops.batch_pause(when="frame")  # not running: the operator is not offered
        out["pause_while_paused"] = "accepted"
    except RuntimeError as exc:
        out["pause_while_paused"] = str(exc)

    ops.batch_continue()
    out["reached_running_again"] = harness.pump_until(bridge.pump, lambda: run.status == "RUNNING",
                                                      timeout=60)
    out["rows_linked_after_continue"] = [job.uid == scene_job.uid
                                         for job, scene_job in zip(run.jobs, settings.jobs, strict=True)]
    ops.queue_hold()  # nothing queued may start once the batch is cancelled
    ops.batch_cancel()
    out["reached_cancelled"] = harness.pump_until(
        bridge.pump, lambda: run.status == "CANCELLED" and not service.running, timeout=60)
    out["queue_at_end"] = [[entry.id, entry.position] for entry in state.queue.entries]
    return out


if __name__ == "__main__":
    harness.run(main)
