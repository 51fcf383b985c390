"""In the bpy wheel: when things render, from the N-panel. The "When to Render" fields say what
they mean (or, in red, what is wrong, and Render refuses it); a first batch renders (real
Blender 3.4) and its run becomes the history that the next ones are estimated from: the line
under Render, a WAITING batch with its start time, a queued job's ETA, a queued batch's start
and end and the queue's end. The window and start time go into an exported recipe and back.

Arguments (JSON): zip, blend (3.4 fixture, a path no other test renders), out, export.
"""

from __future__ import annotations

import os
import time
from typing import Any

import harness
import ui_scenario


def drawn_text(addon: str) -> tuple[dict[str, Any], str]:
    drawn = ui_scenario.draw_everything(addon)
    return drawn, " ".join(drawn["labels"])   # wrapped lines read as one text


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
    ops.jobs_from(source="CAMERAS")
    job = settings.jobs[0]
    job.external, job.filepath = True, args["blend"]
    job.mode, job.frame_start, job.frame_end = "ANIMATION", 1, 2
    job.output = os.path.join(args["out"], "shot_")

    # The fields: a malformed window in red, refused by Render with the field's path.
    settings.use_window, settings.window_start, settings.window_end = True, "25:00", "06:00"
    _, out["bad_window_text"] = drawn_text(addon)
    try:
        ops.batch_render()
        out["bad_window_render"] = "started"
    except RuntimeError as exc:
        out["bad_window_render"] = str(exc)
    settings.window_start = "22:00"
    settings.use_start_at, settings.start_at = True, "23:59"
    _, out["fields_text"] = drawn_text(addon)

    # Export and import: the window and the start time come back.
    ops.recipe_export(filepath=args["export"])
    settings.use_window = settings.use_start_at = False
    ops.recipe_import(filepath=args["export"])
    out["imported"] = [settings.use_window, settings.window_start, settings.window_end,
                       settings.use_start_at, settings.start_at]
    settings.use_window = settings.use_start_at = False
    job = settings.jobs[0]

    # No history yet, then a first batch renders and becomes history.
    _, out["before_history"] = drawn_text(addon)
    ops.batch_render()
    run = bpy.context.window_manager.renderplus_run
    out["first_finished"] = harness.pump_until(
        bridge.pump, lambda: run.status == "FINISHED" and not state.service.running, timeout=120)
    out["first_job_status"] = run.jobs[0].status
    _, out["after_history"] = drawn_text(addon)

    # A start time two hours ahead: the batch WAITS, estimated from the first one's run.
    starts = time.localtime(time.time() + 7200)
    settings.use_start_at, settings.start_at = True, time.strftime("%H:%M", starts)
    out["start_at"] = settings.start_at
    ops.batch_render()
    out["reached_waiting"] = harness.pump_until(
        bridge.pump, lambda: run.status == "WAITING" and run.jobs[0].eta >= 0, timeout=30)
    out["waiting_job"] = [run.jobs[0].status, run.jobs[0].eta_runs, run.starts_at]
    out["waiting"], out["waiting_text"] = drawn_text(addon)

    # Render again while it waits: queued behind it, with its estimated start and end.
    settings.use_start_at = False
    ops.batch_render()
    bridge.refresh_queue()
    queue = state.queue
    out["queue"] = [[entry.estimated_start is not None, entry.estimate_runs]
                    for entry in queue.entries]
    out["queue_end_known"] = queue.estimated_end is not None
    out["queued"], out["queued_text"] = drawn_text(addon)

    ops.queue_hold()
    ops.batch_cancel()
    out["reached_cancelled"] = harness.pump_until(
        bridge.pump, lambda: run.status == "CANCELLED" and not state.service.running, timeout=60)
    return out


if __name__ == "__main__":
    harness.run(main)
