"""In the bpy wheel: a real batch through the installed add-on, watched through the pump.

Jobs render an external .blend saved by Blender 3.4 (the job's Blender, /usr/bin/blender, cannot
open files saved by 5.0). The in-process server runs meanwhile and is polled over HTTP.

Arguments (JSON): zip, blend, out (output folder), port.
"""

from __future__ import annotations

import os
import time
from typing import Any

import harness


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    threads_before = harness.thread_names()
    addon = harness.install_extension(args["zip"])
    bridge = harness.submodule(addon, "bridge")
    server = harness.submodule(addon, "server_lifecycle")
    ui = harness.submodule(addon, "ui")
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.blender_bin = "/usr/bin/blender"
    prefs.server_port = args["port"]
    ops = bpy.ops.renderplus
    out: dict[str, Any] = {"threads_before": threads_before}

    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    scene = bpy.context.scene
    settings = scene.renderplus
    ops.jobs_from(source="CAMERAS", replace=True)  # Cam2, Camera
    ops.job_add()  # then an animation of frames 1-2, and a disabled job
    settings.jobs[2].mode = "ANIMATION"
    settings.jobs[2].frame_start, settings.jobs[2].frame_end = 1, 2
    ops.job_add()
    settings.jobs[3].enabled = False
    for job in settings.jobs:
        job.external = True
        job.filepath = args["blend"]
        job.output = os.path.join(args["out"], f"{job.uid}_")
    out["jobs"] = [{"name": j.name, "uid": j.uid, "camera": j.camera, "enabled": j.enabled}
                   for j in settings.jobs]

    ops.server_start()
    url = server.server_url()
    out["server_url"] = url
    out["test_route"] = harness.http_json(f"{url}/test")
    out["poll_before"] = harness.http_json(f"{url}/batch")[0]

    ops.batch_render()
    run = bpy.context.window_manager.renderplus_run
    seen: dict[str, Any] = {"batch_status": set(), "job_status": set(), "progress": [],
                            "highlight": set(), "http_running": None}

    def watch() -> None:
        seen["batch_status"].add(run.status)
        for state in run.jobs:
            seen["job_status"].add(state.status)
            if state.status == "RUNNING":
                seen["progress"].append(round(state.progress_value, 2))
                seen["highlight"].add((run.current_job, state.job_id, state.detail != ""))
        if run.status == "RUNNING" and seen["http_running"] is None:
            code, body = harness.http_json(f"{url}/batch")
            seen["http_running"] = [code, body.get("status"), body.get("current_job")]

    started = time.monotonic()
    finished = harness.pump_until(bridge.pump, lambda: run.status == "FINISHED", timeout=240, every=watch)
    out["pumped_seconds"] = round(time.monotonic() - started, 1)
    out["finished"] = finished
    out["seen"] = {k: sorted(v) if isinstance(v, set) else v for k, v in seen.items()}
    out["next_interval_after"] = bridge.pump()  # server still running: keeps watching, slowly
    out["run"] = {
        "status": run.status, "progress": run.progress_value, "scene": run.scene,
        "copy_path": run.copy_path, "started": run.started, "finished": run.finished,
        "rendertime": run.rendertime, "average_time": run.average_time,
        "fastest": [run.fastest_index, run.fastest_time], "slowest": [run.slowest_index, run.slowest_time],
        "failed": run.failed, "messages": run.messages, "revision": run.revision,
        "current_job": run.current_job,
    }
    out["states"] = [{"name": s.name, "uid": s.uid, "status": s.status, "progress": s.progress_value,
                      "progress_prop": s.progress, "started": s.started, "finished": s.finished,
                      "rendertime": s.rendertime, "frames_done": s.frames_done,
                      "frames_total": s.frames_total, "engine": s.engine_type, "messages": s.messages}
                     for s in run.jobs]
    # What the job list draws: each scene job finds its own state through its uid.
    out["ui_states"] = [getattr(ui.job_state(bpy.context, job), "status", None) for job in settings.jobs]
    out["http_final"] = harness.http_json(f"{url}/batch")
    out["outputs"] = sorted(os.listdir(args["out"]))  # before the HTTP batch adds its own
    out["file_untouched"] = (bpy.data.filepath == args["blend"])

    # A batch that arrives over HTTP (not from this scene) shows in the panel too.
    recipe = {"version": 2.2, "name": "from curl", "jobs": [
        {"id": 0, "name": "remote", "external": True, "filename": args["blend"], "camera": "Cam2",
         "output": os.path.join(args["out"], "remote_"), "frame_still": 2}]}
    token = server.server_token()  # the server makes its own access token (issue 12)
    out["http_recipe"] = harness.http_json(f"{url}/batch/recipe", "POST", recipe, token=token)[0]
    out["http_start"] = harness.http_json(f"{url}/batch/start", token=token)[0]
    out["http_batch_finished"] = harness.pump_until(
        bridge.pump, lambda: run.batch_name == "from curl" and run.status == "FINISHED", timeout=120)
    out["http_run"] = {"batch_name": run.batch_name, "scene": run.scene, "progress": run.progress_value,
                       "jobs": [[s.name, s.status, s.uid] for s in run.jobs]}
    out["ui_states_after_http"] = [getattr(ui.job_state(bpy.context, job), "status", None)
                                   for job in settings.jobs]

    # Stop the server while a slow client holds a request thread (its head never completes):
    # the operator returns at once, and the pump notices when the stop is done.
    slow, out["slow_client_held"] = harness.hold_request_thread(args["port"])
    started = time.perf_counter()
    ops.server_stop()
    out["stop_seconds"] = time.perf_counter() - started
    out["server_after_stop"] = server.server_url()
    out["stopping_after_stop"] = server.server_stopping()
    out["interval_while_stopping"] = bridge.pump()
    started = time.monotonic()
    out["stop_noticed"] = harness.pump_until(bridge.pump, lambda: not server.server_stopping(), timeout=20)
    out["stop_noticed_seconds"] = round(time.monotonic() - started, 2)
    slow.close()
    out["port_free_after_stop"] = harness.port_is_free(args["port"])
    out["interval_after_stop"] = bridge.pump()  # nothing left to watch: the timer ends
    # The engine's spawner (the one thread that forks children) lives while the add-on is enabled.
    threads = harness.thread_names(settle_to=[*threads_before, harness.SPAWNER])
    out["threads_after"] = [name for name in threads if name != harness.SPAWNER]
    out["children_after"] = harness.descendants()
    return out


if __name__ == "__main__":
    harness.run(main)
