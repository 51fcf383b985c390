"""GUI Blender under Xvfb, the add-on installed from the zip: set the preference "Render on" to
the suite's Slurm cluster (its partition, shared storage), press Render on an open file whose
texture lies outside shared storage, and follow the batch until it ends; then quit. Any error
quits Blender too (never an orphan Blender).

Arguments (JSON): blend (the saved file to open), partition, shared, output (under shared),
frames (the animation's last frame).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # Blender does not add it
import harness

ADDON = "renderplus"
TICK = 0.1
TIMEOUT = 300.0


def main() -> None:
    import bpy

    args = harness.arguments()
    out: dict[str, Any] = {"pid": os.getpid()}
    steps: dict[str, float] = {"began": time.monotonic()}

    def setup() -> None:
        import addon_utils

        bpy.context.preferences.view.show_splash = False
        addon_utils.enable(ADDON, default_set=True)
        prefs = bpy.context.preferences.addons[ADDON].preferences
        prefs.render_on = "slurm"
        prefs.farm_partition = args["partition"]
        prefs.farm_storage = args["shared"]
        bpy.ops.wm.open_mainfile(filepath=args["blend"])

    def prepare() -> None:
        # open_mainfile replaced the scene: the job is made on the file now open
        scene = bpy.context.scene
        bpy.ops.renderplus.job_add()
        job = scene.renderplus.jobs[0]
        job.mode = "ANIMATION"
        job.frame_start, job.frame_end = 1, int(args["frames"])
        job.output = args["output"]
        bpy.ops.wm.save_mainfile()
        farm = sys.modules[f"{ADDON}.addon.farm_choice"]
        out["where"], out["problem"] = farm.where(), farm.problem()
        out["bat_before"] = "blender_asset_tracer" in sys.modules

    def watch() -> float | None:
        lifecycle = sys.modules[f"{ADDON}.addon.batch_lifecycle"] if ADDON in sys.modules else None
        if "setup" not in steps:
            setup()
            steps["setup"] = time.monotonic()
            return TICK
        if "prepared" not in steps:
            prepare()
            steps["prepared"] = time.monotonic()
            return TICK
        assert lifecycle is not None
        bridge = sys.modules[f"{ADDON}.addon.bridge"]
        if "pressed" not in steps:   # Render waits for the answer about the Blender that renders
            if bridge.binary_info(lifecycle.rendering_binary()) is None:
                return TICK
            out["render"] = sorted(bpy.ops.renderplus.batch_render())
            steps["pressed"] = time.monotonic()
            return TICK
        run = bpy.context.window_manager.renderplus_run
        service = lifecycle.get_service()
        if run.status not in ("FINISHED", "CANCELLED") or service.running:
            if time.monotonic() < steps["pressed"] + TIMEOUT:
                return TICK
            out["timed_out"] = True
        view = service.view()
        out["status"] = run.status
        out["jobs"] = [[state.status, state.messages] for state in run.jobs]
        out["view_messages"] = list(view.job(0).messages) if view is not None and view.jobs else []
        out["batch_messages"] = list(view.messages) if view is not None else []
        bat = sys.modules.get("blender_asset_tracer")
        out["bat_file"] = getattr(bat, "__file__", None)
        finish(out)
        return None

    def tick() -> float | None:
        try:
            return watch()
        except BaseException:
            finish({"error": traceback.format_exc()})
            return None

    def finish(result: dict[str, Any]) -> None:
        print(harness.RESULT_PREFIX + json.dumps(result, default=str), flush=True)
        bpy.ops.wm.quit_blender()

    bpy.app.timers.register(tick, first_interval=0.5, persistent=True)


main()
