"""In the bpy wheel: a Blender opened while a standalone Render+ server of the same user runs
attaches to it (the token file) instead of serving itself: the panel shows that server's batch
and queue, and Render, Pause, Continue, Add to Queue and Cancel act on it.

``role`` "first": render, pause, queue a second batch, continue, cancel the second.
``role`` "second": another Blender attaches to the same server and shows its last batch; then
the server is stopped, and the add-on detaches and makes its own batch slot.

Arguments (JSON): zip, blend, out, port (the server's), token, role.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import harness
import ui_scenario


def open_files(under: str) -> list[str]:
    """The files this process holds open under ``under`` (the store would be one)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(under):
            found.append(target)
    return found


def listening_ports() -> set[int]:
    """The TCP ports this process listens on (from /proc/net/tcp and the process's sockets)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as stream:
                lines = stream.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:   # LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    bridge = harness.submodule(addon, "bridge")
    lifecycle = harness.submodule(addon, "batch_lifecycle")
    server = harness.submodule(addon, "server_lifecycle")
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.blender_bin = "/usr/bin/blender"
    url, token = f"http://127.0.0.1:{args['port']}", args["token"]
    run = bpy.context.window_manager.renderplus_run
    state_home = os.environ["XDG_STATE_HOME"]
    out: dict[str, Any] = {"attached_to": lifecycle.attached_to(),
                           "service": type(bridge.state().service).__name__,
                           "store": bridge.state().service.store is None,
                           "open_in_state": open_files(state_home),
                           "listening": sorted(listening_ports())}
    try:
        bpy.ops.renderplus.server_start()
        out["server_start"] = "started"
    except RuntimeError as exc:
        out["server_start"] = str(exc)
    out["server_url_after_start"] = server.server_url()
    out["listening_after_start"] = sorted(listening_ports())
    pump = bridge.pump
    if args["role"] == "second":
        return second(args, out, bridge, lifecycle, run, url, token)

    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    run = bpy.context.window_manager.renderplus_run   # the opened file's window manager
    scene = bpy.context.scene
    settings = scene.renderplus
    ops = bpy.ops.renderplus
    ops.jobs_from(source="CAMERAS", replace=True)  # Cam2, Camera
    settings.jobs[0].mode = "ANIMATION"
    settings.jobs[0].frame_start, settings.jobs[0].frame_end = 1, 3
    for job in settings.jobs:
        job.external = True
        job.filepath = args["blend"]
        job.output = os.path.join(args["out"], f"{job.uid}_")
    uids = [job.uid for job in settings.jobs]

    ops.batch_render()
    statuses: list[str] = []
    out["running_seen"] = harness.pump_until(pump, lambda: run.status == "RUNNING", timeout=60,
                                             every=lambda: statuses.append(run.status))
    out["statuses"] = sorted(set(statuses))
    out["remote_poll_running"] = harness.http_json(f"{url}/batch")[1].get("status")
    out["rows"] = [[s.name, s.uid] for s in run.jobs]
    out["uids"] = uids
    out["scene"] = run.scene
    out["busy"] = lifecycle.batch_busy()
    panel = ui_scenario.draw_everything(addon)   # every panel and the preferences, as drawn
    out["panel"] = {"labels": panel["labels"], "operators": panel["operators"]}

    if not lifecycle.batch_running():
        return out
    ops.batch_pause(when="now")
    out["paused_seen"] = harness.pump_until(pump, lambda: run.status == "PAUSED", timeout=120)
    out["remote_after_pause"] = harness.http_json(f"{url}/batch")[1].get("status")
    out["paused_flag"] = lifecycle.batch_paused()

    settings.jobs[1].enabled = False   # the queued batch: Cam2's animation only
    ops.batch_render()                 # busy: Add to Queue
    settings.jobs[1].enabled = True
    code, queue = harness.http_json(f"{url}/queue", token=token)
    out["remote_queue"] = [code, [[b["name"], b["jobs"]] for b in queue.get("batches", [])]]
    harness.pump_until(pump, lambda: bridge.state().queue is not None
                       and len(bridge.state().queue.entries) == 1, timeout=10)
    out["panel_queue"] = [entry.name for entry in bridge.state().queue.entries]

    ops.batch_continue()
    out["continued_seen"] = harness.pump_until(pump, lambda: run.status in ("RUNNING", "FINISHED"),
                                               timeout=60)
    first_batch = bridge.state().service.batch
    out["first_finished"] = harness.pump_until(
        pump, lambda: bridge.state().service.batch is not first_batch and run.status == "RUNNING",
        timeout=300)
    out["second_rows"] = [[s.name, s.uid, s.status] for s in run.jobs]
    out["second_scene"] = run.scene
    out["queue_emptied"] = harness.pump_until(pump, lambda: not bridge.state().queue.entries, timeout=10)

    ops.batch_cancel()
    out["cancelled_seen"] = harness.pump_until(pump, lambda: run.status == "CANCELLED", timeout=60)
    out["remote_after_cancel"] = harness.http_json(f"{url}/batch")[1].get("status")
    history = harness.http_json(f"{url}/batches?limit=5", token=token)[1]["batches"]
    out["history"] = [entry["status"] for entry in history]   # newest first
    out["outputs"] = sorted(os.listdir(args["out"]))
    out["open_in_state_after"] = open_files(state_home)
    out["listening_after"] = sorted(listening_ports())
    out["still_attached"] = lifecycle.attached_to()

    # Blender quits while the server renders a batch of this Blender: the batch is the
    # server's, so the quit neither pauses nor hands it over; it only stops polling.
    settings.jobs[1].enabled = False
    ops.batch_render()
    harness.pump_until(pump, lambda: run.status == "RUNNING", timeout=60)
    harness.submodule(addon, "quit_lifecycle").on_quit()
    out["after_quit"] = [harness.http_json(f"{url}/batch")[1].get("status"),
                         bridge.state().service is None]
    harness.http_json(f"{url}/batch", "DELETE", token=token)   # the second Blender finds it ended
    return out


def second(args: dict[str, Any], out: dict[str, Any], bridge: Any, lifecycle: Any, run: Any,
           url: str, token: str) -> dict[str, Any]:
    """Another Blender on the same server: it shows the server's last batch; once the server
    ends, it detaches and the next action makes its own slot."""
    out["shown"] = harness.pump_until(bridge.pump, lambda: run.status == "CANCELLED", timeout=30)
    out["shown_name"] = run.batch_name
    out["shown_rows"] = [[s.name, s.status] for s in run.jobs]
    service = bridge.state().service
    os.kill(service.record.pid, signal.SIGINT)   # the server ends (as a handed-over one does)
    out["gone_seen"] = harness.pump_until(bridge.pump, lambda: service.gone, timeout=60)
    out["interval_after_gone"] = bridge.pump()
    own = lifecycle.get_service()
    out["after_gone"] = type(own).__name__
    out["attached_after_gone"] = lifecycle.attached_to()
    out["own_store"] = own.store is not None
    return out


if __name__ == "__main__":
    harness.run(main)
