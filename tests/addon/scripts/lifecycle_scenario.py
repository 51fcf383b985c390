"""In the bpy wheel: disable and enable the add-on twice, the first time with the server and a
batch running; each time nothing may stay registered, running or listening.

Arguments (JSON): zip, blend, out, port.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import harness


def leftovers(addon: str, port: int, exits: harness.AtexitWatch, threads: list[str]) -> dict[str, Any]:
    """Everything the add-on could leave behind once disabled."""
    import bpy

    bridge = sys.modules[f"{addon}.addon.bridge"]  # disabling leaves the module: a wrong name must fail
    handlers = [h for h in bpy.app.handlers.load_post if getattr(h, "__module__", "").startswith(addon)]
    return {
        "classes": harness.registered_names(),
        "scene_prop": hasattr(bpy.types.Scene, "renderplus"),
        "wm_prop": hasattr(bpy.types.WindowManager, "renderplus_run"),
        "operators": [op for op in dir(bpy.types) if op.startswith("RENDERPLUS_OT")],
        "timer": bpy.app.timers.is_registered(bridge.pump),
        "handlers": len(handlers),
        # A cancelled job's SIGKILL timer may outlive the batch by up to kill_grace (5 s): the
        # engine's OwnedProcess.wait() can miss cancelling it (reported to the lead).
        "threads": harness.thread_names(settle_to=threads, timeout=7.0),
        "children": harness.descendants(),
        "port_free": harness.port_is_free(port),
        "atexit": exits.names(addon),
    }


def main(args: dict[str, Any]) -> dict[str, Any]:
    # bpy first: importing it puts Blender's script modules (addon_utils) on sys.path
    import bpy  # noqa: I001
    import addon_utils

    out: dict[str, Any] = {"threads_before": harness.thread_names()}
    exits = harness.AtexitWatch()
    addon = harness.install_extension(args["zip"])
    out["atexit_enabled"] = exits.names(addon)
    out["classes_enabled"] = harness.registered_names()
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.blender_bin = "/usr/bin/blender"
    prefs.server_port = args["port"]

    # A long batch (many frames) with the server running, then disable in the middle of it.
    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    settings = bpy.context.scene.renderplus
    bpy.ops.renderplus.job_add()
    job = settings.jobs[0]
    job.external, job.filepath = True, args["blend"]
    job.mode, job.frame_start, job.frame_end = "ANIMATION", 1, 200
    job.output = os.path.join(args["out"], "long_")
    bpy.ops.renderplus.server_start()
    bpy.ops.renderplus.batch_render()
    bridge = harness.submodule(addon, "bridge")
    batches = harness.submodule(addon, "batch_lifecycle")
    batch = batches.get_service().batch
    run = bpy.context.window_manager.renderplus_run
    out["rendering"] = harness.pump_until(
        bridge.pump, lambda: run.status == "RUNNING" and bool(harness.descendants()), timeout=60)
    out["children_while_running"] = len(harness.descendants())
    out["threads_while_running"] = harness.thread_names()

    started = time.monotonic()
    addon_utils.disable(addon, default_set=False)
    out["disable_seconds"] = round(time.monotonic() - started, 2)
    out["batch_status_after_disable"] = batch.status
    out["job_status_after_disable"] = batch.snapshot()["jobs"][0]["status"]
    out["after_disable_1"] = leftovers(addon, args["port"], exits, out["threads_before"])

    # Enable again: everything comes back, the scene's jobs included (they live in the .blend).
    addon_utils.enable(addon, default_set=False)
    out["classes_reenabled"] = harness.registered_names()
    out["jobs_after_reenable"] = [j.name for j in bpy.context.scene.renderplus.jobs]
    bpy.ops.renderplus.job_add()
    out["jobs_after_add"] = len(bpy.context.scene.renderplus.jobs)

    # "Start the server with Blender": a preference that takes effect when the add-on loads.
    prefs = bpy.context.preferences.addons[addon].preferences
    out["prefs_kept"] = [prefs.blender_bin, prefs.server_port]
    prefs.server_autostart = True
    addon_utils.disable(addon, default_set=False)
    addon_utils.enable(addon, default_set=False)
    out["atexit_enabled_again"] = exits.names(addon)
    bridge = harness.submodule(addon, "bridge")
    server = harness.submodule(addon, "server_lifecycle")
    url = server.server_url()
    out["autostart_url"] = url
    out["autostart_test"] = harness.http_json(f"{url}/test")[0] if url else None
    out["autostart_timer"] = bpy.app.timers.is_registered(bridge.pump)

    addon_utils.disable(addon, default_set=False)
    out["after_disable_2"] = leftovers(addon, args["port"], exits, out["threads_before"])
    return out


if __name__ == "__main__":
    harness.run(main)
