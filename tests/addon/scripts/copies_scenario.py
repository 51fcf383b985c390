"""In Debian's Blender 3.4 (``blender -b``, legacy add-on): three batches made from one open file,
with an edit (the render size, the outputs) before each, the second and third queued while the
first renders. Each renders the file as it was when its Render was pressed, from a copy of its
own; a copy goes when its batch has ended and a newer one started, and a copy an ended batch
left behind goes at start. A paused, then cancelled batch keeps its copy until the next batch
starts; a batch whose job failed keeps it until a resume has rendered that job from it.

The service, its queue, the copies and the renders are real.

Arguments (JSON): blend, out, addons (the folder the zip was unpacked into), config.
"""

from __future__ import annotations

import os
import struct
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # Blender does not add it

import harness

ADDON = "renderplus"
SIZES = ((64, 48), (32, 24), (16, 12))  # the render size of each batch, set before its Render


def png_size(path: str) -> list[int]:
    with open(path, "rb") as handle:
        return list(struct.unpack(">II", handle.read(24)[16:24]))


def listing(folder: str) -> list[str]:
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def main(args: dict[str, Any]) -> dict[str, Any]:
    import addon_utils
    import bpy

    copies = os.path.join(args["config"], "renderplus", "copies")
    os.makedirs(copies)
    for name in ("shots-1a2b3c4d.blend", "ended.batch-20250101-000000-abcdef.blend"):
        with open(os.path.join(copies, name), "wb") as stray:  # what ended batches left behind
            stray.write(b"BLENDER")
    out: dict[str, Any] = {"strays_before": listing(copies)}

    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    addon_utils.enable(ADDON, default_set=True)
    out["after_enable"] = listing(copies)
    prefs = bpy.context.preferences.addons[ADDON].preferences
    prefs.blender_bin = bpy.app.binary_path
    bridge = sys.modules[f"{ADDON}.addon.bridge"]
    state = bridge.state()

    scene = bpy.context.scene
    settings = scene.renderplus
    bpy.ops.renderplus.jobs_from(source="CAMERAS", replace=True)  # Camera, Cam2: two jobs
    run = bpy.context.window_manager.renderplus_run
    made: list[str] = []
    seen_copies: list[list[str]] = []
    for number, (width, height) in enumerate(SIZES, start=1):
        scene.render.resolution_x, scene.render.resolution_y = width, height  # never saved
        for job in settings.jobs:
            job.output = os.path.join(args["out"], f"b{number}", f"{job.camera}_")
            # the first batch's first job renders long enough for the others to be queued
            slow = number == 1 and job == settings.jobs[0]
            job.engine, job.cycles_samples = "CYCLES", 3000 if slow else 4
        result = bpy.ops.renderplus.batch_render()
        out.setdefault("render_results", []).append(sorted(result))
        bridge.pump()
        new = [name for name in listing(copies) if name.endswith(".blend") and name not in made]
        made.extend(new)
        seen_copies.append(listing(copies))
        if number == 1:  # the first batch renders before the next two are queued
            harness.pump_until(bridge.pump, lambda: run.status == "RUNNING", timeout=60)
    out["made"] = made
    out["seen_copies"] = seen_copies
    out["queued_after_renders"] = [entry.name for entry in state.queue.entries]

    # While batch 2 waits in the queue, batch 1 renders; when 1 ends its copy goes.
    statuses: list[tuple[str, list[str]]] = []

    def every() -> None:
        snapshot = (run.status, listing(copies))
        if not statuses or statuses[-1] != snapshot:
            statuses.append(snapshot)

    def all_done() -> bool:
        queue = state.queue
        return run.status == "FINISHED" and not queue.entries and len(listing(args["out"])) == 3 \
            and all(len(os.listdir(os.path.join(args["out"], f"b{n}"))) == 2 for n in (1, 2, 3)) \
            and state.service.batch is not None and not state.service.batch.running
    out["finished"] = harness.pump_until(bridge.pump, all_done, timeout=300, every=every)
    bridge.pump()
    out["timeline"] = statuses
    out["left_at_end"] = listing(copies)
    out["sizes"] = {f"b{n}": {name: png_size(os.path.join(args["out"], f"b{n}", name))
                              for name in sorted(os.listdir(os.path.join(args["out"], f"b{n}")))}
                    for n in (1, 2, 3) if os.path.isdir(os.path.join(args["out"], f"b{n}"))}
    out["size_in_memory"] = [scene.render.resolution_x, scene.render.resolution_y]

    # A paused batch keeps its copy; cancelled too (Resume renders its cancelled jobs again).
    settings.jobs[0].cycles_samples = 3000
    bpy.ops.renderplus.batch_render()
    paused_copy = os.path.join(copies, os.path.basename(state.launch.copy_path))
    harness.pump_until(bridge.pump, lambda: run.status == "RUNNING", timeout=60)
    bpy.ops.renderplus.batch_pause(when="now")
    out["reached_paused"] = harness.pump_until(bridge.pump, lambda: run.status == "PAUSED", timeout=60)
    bridge.sweep_copies()
    out["copy_while_paused"] = os.path.exists(paused_copy)
    bpy.ops.renderplus.batch_cancel()
    out["reached_cancelled"] = harness.pump_until(bridge.pump, lambda: run.status == "CANCELLED", timeout=60)
    bridge.sweep_copies()
    out["copy_after_cancel"] = os.path.exists(paused_copy)

    # The next batch: its first job fails (a PRE_JOB hook that fails once). Its start removes
    # the cancelled batch's copy; its own stays after it ends, so a resume renders the failed
    # job from it; once every job has finished, the copy goes.
    marker = os.path.join(args["out"], "hook-failed-once")
    for job in settings.jobs:
        job.output = os.path.join(args["out"], "b5", f"{job.camera}_")
        job.cycles_samples = 4
    hook = settings.jobs[0].pre_job_hooks.add()
    hook.cmd = f"test -e {marker} || {{ touch {marker}; exit 1; }}"
    bpy.ops.renderplus.batch_render()
    failed_copy = os.path.join(copies, os.path.basename(state.launch.copy_path))
    out["ended_with_failure"] = harness.pump_until(
        bridge.pump, lambda: run.status == "FINISHED" and state.service.batch is not None
        and not state.service.batch.running, timeout=120)
    bridge.sweep_copies()
    out["cancelled_copy_after_next_batch"] = os.path.exists(paused_copy)
    out["job_statuses_failed"] = [job.status for job in run.jobs]
    out["copy_after_failure"] = os.path.exists(failed_copy)
    out["renders_after_failure"] = listing(os.path.join(args["out"], "b5"))
    addon_utils.disable(ADDON, default_set=True)  # Blender quits and starts again: the sweep
    addon_utils.enable(ADDON, default_set=True)   # at start keeps the copy a resume needs
    bridge = sys.modules[f"{ADDON}.addon.bridge"]
    state = bridge.state()
    out["copy_after_restart"] = os.path.exists(failed_copy)
    batch_lifecycle = sys.modules[f"{ADDON}.addon.batch_lifecycle"]
    resumed = batch_lifecycle.resume_batch()  # what GET /batch/resume calls
    out["resumed_from"] = sorted({job.blend_file for job in resumed.recipe.jobs})
    out["failed_copy"] = failed_copy
    out["resume_finished"] = harness.pump_until(
        bridge.pump, lambda: not resumed.running and run.status == "FINISHED", timeout=120)
    bridge.pump()
    out["job_statuses_resumed"] = [job.status for job in resumed.view().jobs]
    out["renders_after_resume"] = listing(os.path.join(args["out"], "b5"))
    bridge.sweep_copies()
    out["copy_after_resume"] = os.path.exists(failed_copy)
    addon_utils.disable(ADDON, default_set=True)
    harness.pump_until(lambda: None, lambda: not harness.descendants(), timeout=10)  # exiting ones
    out["children_after"] = harness.descendants()
    return out


if __name__ == "__main__":
    harness.run(main)
