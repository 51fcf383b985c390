"""In the bpy wheel: a batch keeps the Blender it started with while the add-on's preference
changes under it; the next batch (and one started over HTTP) uses the new preference.

Arguments (JSON): zip, blend, out, blender_a, blender_b (two executables that run Blender).
"""

from __future__ import annotations

import os
from typing import Any

import harness


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    bridge = harness.submodule(addon, "bridge")
    batches = harness.submodule(addon, "batch_lifecycle")
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.blender_bin = args["blender_a"]
    ops = bpy.ops.renderplus
    out: dict[str, Any] = {}

    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    settings = bpy.context.scene.renderplus
    for name in ("long", "next"):  # job 0 renders long enough to change the preference meanwhile
        ops.job_add()
        job = settings.jobs[-1]
        job.name, job.external, job.filepath = name, True, args["blend"]
        job.mode, job.frame_start, job.frame_end = "ANIMATION", 1, 200
        job.output = os.path.join(args["out"], f"{name}_")

    ops.batch_render()
    batch = batches.get_service().batch
    run = bpy.context.window_manager.renderplus_run
    out["first_running"] = harness.pump_until(
        bridge.pump, lambda: batch.handle(0) is not None and run.jobs[0].status == "RUNNING", timeout=60)

    prefs.blender_bin = args["blender_b"]  # while job 0 renders
    out["service_after_change"] = batches.get_service().options.blender_bin  # what a new batch takes
    out["batch_options_after_change"] = batch.options.blender_bin
    out["batch_blender_after_change"] = batch.blender_bin
    ops.job_cancel()  # job 0 ends; the same batch now starts job 1
    out["second_running"] = harness.pump_until(
        bridge.pump, lambda: batch.handle(1) is not None, timeout=60)
    out["argv_job0"] = list(batch.handle(0).argv[:2])
    out["argv_job1"] = list(batch.handle(1).argv[:2]) if batch.handle(1) else None
    ops.batch_cancel()
    out["first_ended"] = harness.pump_until(bridge.pump, lambda: not batch.running, timeout=60)

    ops.batch_render()  # the next batch: the new preference
    second = batches.get_service().batch
    out["next_is_new"] = second is not batch
    out["next_started"] = harness.pump_until(bridge.pump, lambda: second.handle(0) is not None, timeout=60)
    out["next_options"] = second.options.blender_bin
    out["argv_next"] = list(second.handle(0).argv[:2]) if second.handle(0) else None
    ops.batch_cancel()
    out["next_ended"] = harness.pump_until(bridge.pump, lambda: not second.running, timeout=60)
    out["children_after"] = harness.descendants()
    return out


if __name__ == "__main__":
    harness.run(main)
