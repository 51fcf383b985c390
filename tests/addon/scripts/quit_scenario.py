"""Quitting Blender during a batch, as an artist does, and opening Blender again.

``quit`` runs in GUI Blender under Xvfb (timers fire, the window is real): the add-on from the
repository, the quit preference from the arguments, a saved file with one animation job; it
presses Render, waits until frames are verified, notes them (inode, mtime) and quits with
``wm.quit_blender`` (what Ctrl+Q does with a saved file: no dialog).

``reopen`` runs in background Blender: the add-on finds what the quit left in the state folder;
with ``resume`` it presses Resume and pumps until the batch ends.

Arguments (JSON): step ("quit" / "reopen"), root, work, frames, on_quit, port, server, resume.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # Blender does not add it
import harness

TICK = 0.05


def setup_addon(args: dict[str, Any]) -> Any:
    import bpy  # noqa: I001
    import addon_utils

    bpy.context.preferences.view.show_splash = False
    sys.path.insert(0, args["root"])
    addon_utils.enable("renderplus", default_set=True)
    prefs = bpy.context.preferences.addons["renderplus"].preferences
    prefs.server_port = args["port"]
    prefs.on_quit = args.get("on_quit", "KEEP")
    return prefs


def frames_on_disk(folder: Path) -> dict[str, list[int]]:
    found = {}
    for path in sorted(folder.glob("f_*.png")):
        stat = path.stat()
        found[path.name] = [stat.st_ino, stat.st_mtime_ns]
    return found


def quit_step(args: dict[str, Any]) -> None:
    import bpy

    work = Path(args["work"])
    out: dict[str, Any] = {"pid": os.getpid()}
    prepared: list[float] = []
    started: list[float] = []

    def press_render() -> None:
        setup_addon(args)
        if args.get("server"):
            out["url"] = sys.modules["renderplus.addon.server_lifecycle"].start_server(args["port"])
            out["token"] = sys.modules["renderplus.addon.bridge"].state().server.token
        scene = bpy.context.scene
        scene.render.engine = "CYCLES"
        scene.cycles.samples = 600
        scene.cycles.use_denoising = False
        scene.render.resolution_x, scene.render.resolution_y = 160, 120
        bpy.ops.wm.save_as_mainfile(filepath=str(work / "scene.blend"))
        bpy.ops.renderplus.job_add()
        job = scene.renderplus.jobs[0]
        job.mode = "ANIMATION"
        job.frame_start, job.frame_end = 1, int(args["frames"])
        job.output = str(work / "renders" / "f_")
        bpy.ops.wm.save_mainfile()
        prepared.append(time.monotonic())

    def watch() -> float | None:
        if not prepared:
            press_render()
            return TICK
        if not started:   # Render waits for the answer about the Blender that renders
            lifecycle = sys.modules["renderplus.addon.batch_lifecycle"]
            bridge = sys.modules["renderplus.addon.bridge"]
            if bridge.binary_info(lifecycle.rendering_binary()) is None:
                return TICK
            out["render"] = sorted(bpy.ops.renderplus.batch_render())
            started.append(time.monotonic())
            return TICK
        view = sys.modules["renderplus.addon.batch_lifecycle"].get_service().view()
        done = view.job(0).frames_done if view is not None and view.jobs else 0
        if done < 2 and time.monotonic() < started[0] + 120:
            return TICK
        # The frames verified so far (frames 1..done: one job renders them in order) are kept
        out["verified"] = {name: stamp for name, stamp in frames_on_disk(work / "renders").items()
                           if int(name[2:6]) <= done}
        out["status_before_quit"] = view.status.value if view is not None else None
        out["messages"] = list(view.messages) if view is not None else []
        print(harness.RESULT_PREFIX + json.dumps(out), flush=True)
        bpy.ops.wm.quit_blender()
        return None

    def tick() -> float | None:
        try:
            return watch()
        except BaseException:
            import traceback

            print(harness.RESULT_PREFIX + json.dumps({"error": traceback.format_exc()}), flush=True)
            bpy.ops.wm.quit_blender()
            return None

    bpy.app.timers.register(tick, first_interval=0.5)


def reopen_step(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    setup_addon(args)
    lifecycle = sys.modules["renderplus.addon.batch_lifecycle"]
    bridge = sys.modules["renderplus.addon.bridge"]
    service = lifecycle.get_service()
    view = service.view()
    out: dict[str, Any] = {
        "status": view.status.value if view is not None else None,
        "paused": lifecycle.batch_paused(),
        "interrupted": lifecycle.interrupted_batch() is not None,
        "frames_done": view.job(0).frames_done if view is not None and view.jobs else None,
    }
    if args.get("resume"):
        # A paused batch's panel offers Continue, an interrupted one's Resume
        press = bpy.ops.renderplus.batch_continue if out["paused"] else bpy.ops.renderplus.batch_resume
        out["resumed"] = sorted(press())
        run = bpy.context.window_manager.renderplus_run
        out["ended"] = harness.pump_until(bridge.pump, lambda: run.status in ("FINISHED", "CANCELLED"),
                                          timeout=240)
        out["status_after"] = run.status
        final = service.view()
        out["messages"] = list(final.job(0).messages) if final is not None else []
    out["frames"] = frames_on_disk(Path(args["work"]) / "renders")
    return out


if __name__ == "__main__":
    arguments = harness.arguments()
    if arguments["step"] == "quit":
        try:
            quit_step(arguments)
        except BaseException:   # say it and quit: a GUI Blender would wait forever
            import traceback

            import bpy
            print(harness.RESULT_PREFIX + json.dumps({"error": traceback.format_exc()}), flush=True)
            bpy.ops.wm.quit_blender()
    else:
        harness.run(reopen_step)
