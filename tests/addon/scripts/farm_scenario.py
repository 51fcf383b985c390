"""In the bpy wheel: the preference "Render on" (this machine, Slurm, Flamenco Manager). A choice
that cannot work is said in the preferences and the panel and Render refuses with it; a good
Slurm choice gives the add-on's slot the farm: ``/test`` of the add-on's server reports the
cluster, and Render renders the job on it.

Arguments (JSON): zip, blend (a 3.4 fixture on shared storage), shared (the storage folder),
partition (the test cluster's), out (the job's output prefix, under shared), port.
"""

from __future__ import annotations

import os
from typing import Any

import harness
import ui_scenario


def refusal() -> str:
    import bpy

    try:
        bpy.ops.renderplus.batch_render()
    except RuntimeError as exc:
        return str(exc)
    return "started"


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    bridge = harness.submodule(addon, "bridge")
    batches = harness.submodule(addon, "batch_lifecycle")
    server = harness.submodule(addon, "server_lifecycle")
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.blender_bin = "/usr/bin/blender"
    prefs.server_port = args["port"]
    out: dict[str, Any] = {}
    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    settings = bpy.context.scene.renderplus
    bpy.ops.renderplus.job_add()
    job = settings.jobs[-1]
    job.external, job.filepath, job.output = True, args["blend"], args["out"]
    out["default"] = prefs.render_on
    service = batches.get_service()

    def said() -> list[str]:
        return [label for label in ui_scenario.draw_everything(addon)["labels"] if "Render" in label]

    prefs.render_on = "slurm"
    out["no_storage"] = [said(), refusal(), service.executor_factory is None]
    prefs.farm_storage = os.path.join(args["shared"], "nowhere")
    out["missing_storage"] = [said(), refusal()]
    bpy.ops.renderplus.server_start()
    url = server.server_url()
    out["test_refused"] = harness.http_json(f"{url}/test", token=server.server_token())[1]["farm"]
    prefs.render_on, prefs.farm_url = "flamenco", "manager:8080"
    out["bad_url"] = [said(), refusal()]
    prefs.render_on, prefs.farm_partition, prefs.farm_storage = "slurm", args["partition"], args["shared"]
    out["good"] = [said(), service.executor_factory is not None]

    out["test_route"] = harness.http_json(f"{url}/test", token=server.server_token())
    bpy.ops.renderplus.batch_render()
    run = bpy.context.window_manager.renderplus_run
    out["finished"] = harness.pump_until(
        bridge.pump, lambda: run.status == "FINISHED" and not service.running, timeout=240)
    out["job"] = [run.jobs[0].status, run.jobs[0].messages]
    prefs.render_on = "local"
    out["local_again"] = [said(), service.executor_factory is None]
    bpy.ops.renderplus.server_stop()
    harness.pump_until(bridge.pump, lambda: not server.server_stopping(), timeout=20)
    return out


if __name__ == "__main__":
    harness.run(main)
