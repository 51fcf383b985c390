"""In the bpy wheel: a batch a killed Render+ left RUNNING in the add-on's store, found when
Blender opens, then taken by another live Render+ (a standalone server) before the artist
presses Resume: the Resume is refused with the sentence naming that process, the panel says
who runs the batch; once that process is killed, Resume takes the batch over.

Arguments (JSON): zip, blend, out.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import subprocess
from typing import Any

import harness
import ui_scenario


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    lifecycle = harness.submodule(addon, "batch_lifecycle")
    bridge = harness.submodule(addon, "bridge")
    store_api = importlib.import_module(f"{addon}.batch.store")
    claims = importlib.import_module(f"{addon}.batch.store.claims")
    spawner = importlib.import_module(f"{addon}.batch.spawner")
    view = importlib.import_module(f"{addon}.batch.view")
    out: dict[str, Any] = {}

    sleeper = os.path.join(args["out"], "sleeping-blender")
    with open(sleeper, "w") as handle:
        handle.write("#!/bin/sh\nexec sleep 89.5\n")
    os.chmod(sleeper, 0o755)
    paths = harness.submodule(addon, "paths")
    copy = str(paths.new_copy_path(args["blend"]))  # the batch's saved copy, made by a dead Blender
    shutil.copyfile(args["blend"], copy)
    recipe = {"version": 2.2, "name": "night", "blender_bin": sleeper, "jobs": [
        {"id": 0, "name": "shot", "blend_file": copy, "animated": True,
         "frame_start": 1, "frame_end": 3, "output": os.path.join(args["out"], "shot_####")}]}
    store = lifecycle.get_service().store
    dead = subprocess.Popen(["true"])
    dead.wait()
    batch_id = store.create_batch(
        "night", json.dumps(recipe), args["out"], store_api.Owner(dead.pid, spawner.boot_id(), 1),
        [store_api.NewJob(0, "shot", args["blend"], view.JobStatus.RUNNING)],
        status=view.BatchStatus.RUNNING)
    subject = f"batch:{batch_id}"
    bridge.state().service = None  # Blender opened again: a new batch slot looks at the store
    out["found_interrupted"] = lifecycle.refresh_interrupted() is not None

    server = subprocess.Popen(["sleep", "120"])  # stands for a live `python3 -m renderplus.server`
    ticks = None
    while ticks is None:
        ticks = spawner.start_ticks(server.pid)
    owner = store_api.Owner(server.pid, spawner.boot_id(), ticks)
    store.take_claim(subject, claims.Claimant(owner, "server", "python3 -m renderplus.server",
                                              socket.gethostname()))
    out["server_pid"] = server.pid
    try:
        out["refused"] = sorted(bpy.ops.renderplus.batch_resume())
    except RuntimeError as exc:  # an operator's ERROR report raises in background Blender
        out["refused"] = str(exc)
    out["owned_elsewhere"] = lifecycle.owned_elsewhere()
    out["still_offered"] = lifecycle.interrupted_batch() is not None
    out["panel"] = ui_scenario.draw_everything(addon)
    lifecycle.clean_left_over_copies()  # as when Blender starts: the server renders this copy
    out["copy_kept_while_owned_elsewhere"] = os.path.exists(copy)

    server.kill()  # kill -9 of the owner: the batch is free again
    server.wait()
    out["taken"] = sorted(bpy.ops.renderplus.batch_resume())
    run = bpy.context.window_manager.renderplus_run
    out["running"] = harness.pump_until(bridge.pump, lambda: run.status == "RUNNING", timeout=60)
    claim = store.claim(subject)
    out["owner_pid"] = claim.owner.pid if claim is not None and claim.owner is not None else None
    out["blender_pid"] = os.getpid()
    bpy.ops.renderplus.batch_cancel()
    out["cancelled"] = harness.pump_until(bridge.pump, lambda: run.status == "CANCELLED", timeout=60)
    out["claim_after_end"] = store.claim(subject) is not None
    bridge.sweep_copies()
    out["copy_after_cancel"] = os.path.exists(copy)  # cancelled: a resume may render it again
    return out


if __name__ == "__main__":
    harness.run(main)
