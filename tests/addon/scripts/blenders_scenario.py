"""In the bpy wheel: the add-on's list of Blenders and "auto". The preferences list each Blender
with its version (asked in a thread) or what is wrong with it; the list is the service's
candidates (Render refuses while a row is no Blender, naming it; removed, it renders); with
Blender Binary "auto" an external 3.4 file renders with the listed 3.4 (a newer
listed Blender is passed over), the panel and the poll say which; an exported recipe keeps
"auto".

Arguments (JSON): zip, blend (3.4 fixture), out, export, blenders (executables to list), bad (a
path that is no Blender).
"""

from __future__ import annotations

import os
from typing import Any

import harness
import ui_scenario


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    bridge = harness.submodule(addon, "bridge")
    batches = harness.submodule(addon, "batch_lifecycle")
    prefs = bpy.context.preferences.addons[addon].preferences
    out: dict[str, Any] = {}
    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    settings = bpy.context.scene.renderplus
    bpy.ops.renderplus.job_add()
    job = settings.jobs[-1]
    job.external, job.filepath = True, args["blend"]
    job.output = os.path.join(args["out"], "auto_")
    prefs.blender_bin = "auto"
    for path in [*args["blenders"], args["bad"]]:
        bpy.ops.renderplus.blender_add()
        prefs.blenders[-1].path = path
    listed = [*args["blenders"], args["bad"]]
    out["answered"] = harness.pump_until(
        bridge.pump, lambda: all(bridge.binary_info(p) is not None for p in listed), timeout=120)
    out["labels"] = ui_scenario.draw_everything(addon)["labels"]
    service = batches.get_service()
    out["options"] = [service.options.blender_bin, list(service.options.blenders)]
    try:   # Render refuses while a listed Blender cannot render
        bpy.ops.renderplus.batch_render()
        out["refused"] = "started"
    except RuntimeError as exc:
        out["refused"] = str(exc)
    bpy.ops.renderplus.blender_remove(index=len(prefs.blenders) - 1)   # the red row goes
    out["after_remove"] = list(service.options.blenders)

    bpy.ops.renderplus.batch_render()
    run = bpy.context.window_manager.renderplus_run
    out["finished"] = harness.pump_until(
        bridge.pump, lambda: run.status == "FINISHED" and not service.running, timeout=120)
    out["job"] = [run.jobs[0].status, run.jobs[0].blender]
    out["messages"] = run.jobs[0].messages
    out["poll_blender"] = service.batch.view().job(0).blender
    bpy.ops.renderplus.recipe_export(filepath=args["export"])
    return out


if __name__ == "__main__":
    harness.run(main)
