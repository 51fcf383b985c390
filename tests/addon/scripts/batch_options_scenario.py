"""In the bpy wheel: the batch settings the engine has (skip existing frames, retries, parallel
jobs, Blender sessions) set in the panel. At their defaults the recipe's settings are what they
always were; set, they are written, validated and drawn, and come back on import. With
``render``: a real batch (Blender 3.4 renders an external 3.4 file) renders frame 1, then with
*Skip Existing Frames* frames 1-2, leaving frame 1's file as it was.

Arguments (JSON): zip, blend (3.4 fixture), out (output folder), export, render (bool).
"""

from __future__ import annotations

import os
from typing import Any

import harness
import ui_scenario


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    recipe_io = harness.submodule(addon, "recipe_io")
    bridge = harness.submodule(addon, "bridge")
    batches = harness.submodule(addon, "batch_lifecycle")
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.blender_bin = "/usr/bin/blender"
    ops = bpy.ops.renderplus
    out: dict[str, Any] = {}

    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    settings = bpy.context.scene.renderplus
    options = settings.batch_options
    ops.job_add()
    job = settings.jobs[-1]
    job.external, job.filepath = True, args["blend"]
    job.output = os.path.join(args["out"], "skip_")
    job.mode, job.frame_start, job.frame_end = "ANIMATION", 1, 1

    def written() -> dict[str, Any]:
        data = recipe_io.recipe_dict(settings, blend_path=bpy.data.filepath, copy_path="",
                                     blender_bin="", mail_password="", abspath=bpy.path.abspath)
        settings_written: dict[str, Any] = data["settings"]
        return settings_written

    def validated() -> dict[str, Any]:
        recipe = recipe_io.build_recipe(settings, blend_path=bpy.data.filepath, copy_path="",
                                        blender_bin="", mail_password="", abspath=bpy.path.abspath)
        s = recipe.settings
        return {"skip_existing": s.skip_existing, "retries": s.retries, "parallel": s.parallel,
                "session_reuse": s.session_reuse}

    out["defaults"] = {"props": [options.skip_existing, options.retries, options.parallel_auto,
                                 options.parallel, options.session_reuse],
                       "written": sorted(written()), "validated": validated()}
    options.skip_existing, options.retries, options.parallel = True, 3, 2
    options.session_reuse = "PER_JOB"
    out["set"] = {"written": written(), "validated": validated()}
    options.parallel_auto, options.session_reuse, options.retries = True, "PER_FILE", 0
    out["auto"] = {"written": written(), "validated": validated()}
    out["drawn"] = ui_scenario.draw_everything(addon)["props"]

    ops.recipe_export(filepath=args["export"])
    options.skip_existing, options.retries, options.parallel_auto = False, 1, False
    options.parallel, options.session_reuse = 1, "AUTO"
    ops.recipe_import(filepath=args["export"])
    options = bpy.context.scene.renderplus.batch_options
    out["imported"] = [options.skip_existing, options.retries, options.parallel_auto,
                       options.session_reuse]
    if not args["render"]:
        return out

    settings = bpy.context.scene.renderplus
    settings.jobs[0].output = os.path.join(args["out"], "skip_")
    options = settings.batch_options
    options.skip_existing, options.retries, options.parallel_auto = False, 1, False
    options.parallel, options.session_reuse = 1, "AUTO"
    service = batches.get_service()
    run = bpy.context.window_manager.renderplus_run

    def render() -> bool:
        ops.batch_render()
        return bool(harness.pump_until(
            bridge.pump, lambda: run.status == "FINISHED" and not service.running, timeout=180))

    out["first_finished"] = render()
    frame_1 = os.path.join(args["out"], "skip_0001.png")
    out["first_files"] = sorted(os.listdir(args["out"]))
    before = os.stat(frame_1)
    with open(frame_1, "rb") as handle:
        first_bytes = handle.read()

    options.skip_existing = True
    settings.jobs[0].frame_end = 2
    out["second_finished"] = render()
    out["second_skip_existing"] = service.batch.recipe.settings.skip_existing
    out["second_files"] = sorted(os.listdir(args["out"]))
    after = os.stat(frame_1)
    with open(frame_1, "rb") as handle:
        out["frame_1_same_bytes"] = handle.read() == first_bytes
    out["frame_1_same_mtime"] = after.st_mtime_ns == before.st_mtime_ns
    out["second_job"] = [run.jobs[0].status, run.jobs[0].frames_done, run.jobs[0].frames_total,
                         run.jobs[0].messages]
    return out


if __name__ == "__main__":
    harness.run(main)
