"""In the bpy wheel (issue 13): the check before Render, a batch's frames and thumbnails, the
list following the running job, a failure in full, the dashboard address and its token, and
resuming an interrupted batch (against the service's API, stood in where it has not landed).

Arguments (JSON): zip, blend (3.4 fixture with Cam2), out, fake (fake Blender 3.4), fake50
(the same answering 5.0), port.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace
from typing import Any

import harness


def render_error(ops: Any, **kwargs: Any) -> str:
    try:
        ops.batch_render(**kwargs)
    except RuntimeError as exc:
        return str(exc)
    return "started"


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    bridge = harness.submodule(addon, "bridge")
    batches = harness.submodule(addon, "batch_lifecycle")
    server = harness.submodule(addon, "server_lifecycle")
    thumbnails = harness.submodule(addon, "thumbnails")
    batch_operators = harness.submodule(addon, "batch_operators")
    prefs = bpy.context.preferences.addons[addon].preferences
    ops = bpy.ops.renderplus
    out: dict[str, Any] = {}

    # The binary is asked in a thread: "checking..." (None) first, then its answer.
    out["first_answer"] = bridge.binary_info(args["fake"])
    info = bridge.wait_binary_info(args["fake"], 30)
    out["binary"] = [info.version, list(info.engines)]

    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    scene = bpy.context.scene
    settings = scene.renderplus
    ops.jobs_from(source="CAMERAS", replace=True)  # "Cam2", "Camera"
    for job in settings.jobs:
        job.output = os.path.join(args["out"], f"{job.camera}_")
    names = [job.name for job in settings.jobs]
    out["names"] = names

    # The copy is saved by this Blender (5.0): too new for a 3.4 binary.
    prefs.blender_bin = args["fake"]
    out["too_new"] = render_error(ops)
    prefs.blender_bin = args["fake50"]

    first = settings.jobs[0]
    cases = {}
    # A job saved (or imported) with an engine this Blender lacks: the menu no longer offers it.
    harness.submodule(addon, "engine_menu").store_engine(first, "BLENDER_EEVEE_NEXT")
    cases["engine"] = render_error(ops)
    first.engine = "FILE"
    bpy.data.objects["Cam2"].name = "Cam2 renamed"
    cases["camera"] = render_error(ops)
    bpy.data.objects["Cam2 renamed"].name = "Cam2"
    first.world = "Gone World"
    cases["world"] = render_error(ops)
    first.world = ""
    first.layer = "Gone Layer"
    cases["layer"] = render_error(ops)
    first.layer = ""
    first.scene = "Gone Scene"
    cases["scene"] = render_error(ops)
    first.scene = scene.name
    first.mode, first.frame_start, first.frame_end = "ANIMATION", 9, 3
    cases["frames"] = render_error(ops)
    first.mode, first.frame_start, first.frame_end = "STILL", 1, 1
    first.output = os.path.join(args["blend"], "renders", "frame_")  # under a file: even root cannot
    cases["folder"] = render_error(ops)
    first.output = os.path.join(args["out"], "Cam2_")
    out["cases"] = cases
    out["batch_after_checks"] = batches.get_service().batch is not None

    # A batch that renders: frames, thumbnails, the list follows, a failure readable in full.
    first.mode, first.frame_start, first.frame_end = "ANIMATION", 1, 3
    ops.job_add()
    failing = settings.jobs[-1]
    failing.name = "Will fail"
    failing.output = os.path.join(args["out"], "fail_")
    settings.active_job_index = len(settings.jobs) - 1
    selected: list[int] = []
    out["render"] = render_error(ops)
    run = bpy.context.window_manager.renderplus_run
    out["finished"] = harness.pump_until(bridge.pump, lambda: run.status == "FINISHED", timeout=120,
                                         every=lambda: selected.append(settings.active_job_index))
    out["selected"] = sorted(set(selected))
    out["states"] = [[s.name, s.status, s.output_count, s.first_output, s.last_output, s.output_folder]
                     for s in run.jobs]
    out["icon"] = thumbnails.icon_id(run.jobs[0].last_output)
    out["icon_again"] = thumbnails.icon_id(run.jobs[0].last_output)
    out["previews"] = len(thumbnails._collection)  # background Blender makes no icons (id 0)
    # Read at once (no background job): its size is known without waiting.
    out["read_at_once"] = [tuple(p.image_size) for p in thumbnails._collection.values()]
    big = os.path.join(args["out"], "big.png")  # 2048x1536: more than a main thread may read now
    harness.write_png(big, 2048, 1536)
    out["big_running"] = thumbnails.icon_id(big)
    out["big_waits"] = thumbnails.too_large_now(big)
    out["previews_after_big"] = len(thumbnails._collection)
    thumbnails.icon_id(big, may_defer=True)  # a finished job: Blender's own preview job, once
    out["previews_after_deferred"] = len(thumbnails._collection)
    out["failed_message"] = run.jobs[2].messages
    describe = batch_operators.RENDERPLUS_OT_job_messages.description
    out["tooltip"] = describe(bpy.context, SimpleNamespace(index=2))
    out["progress_shown"] = run.jobs[0].progress

    # The dashboard: a token by default, none with the preference.
    prefs.server_port = args["port"]
    import importlib
    tokenfile = importlib.import_module(f"{addon}.server.tokenfile")
    ops.server_start()
    out["dashboard"] = server.dashboard_url()
    out["token"] = server.server_token()
    token_file = tokenfile.token_path(args["port"])
    out["token_file_mode"] = oct(token_file.stat().st_mode & 0o777) if token_file.exists() else None
    record = tokenfile.read_record(args["port"])
    out["token_file_token"] = record.token if record is not None else None
    ops.dashboard_copy()
    out["clipboard"] = bpy.context.window_manager.clipboard
    ops.server_stop()
    harness.pump_until(bridge.pump, lambda: not server.server_stopping(), timeout=20)
    out["token_file_after_stop"] = token_file.exists()
    prefs.no_token = True
    ops.server_start()
    out["dashboard_no_token"] = server.dashboard_url()
    out["token_no_token"] = server.server_token()
    ops.server_stop()
    harness.pump_until(bridge.pump, lambda: not server.server_stopping(), timeout=20)

    # An interrupted batch, through the service's API (stood in when it has not landed yet).
    service = batches.get_service()
    out["service_has_resume"] = hasattr(type(service), "resume")
    interrupted = service.view()
    from dataclasses import replace

    calls: list[str] = []
    errors = iter([harness_error(addon, "The interrupted batch's file is gone: /x.blend")])

    def fake_resume() -> Any:
        calls.append("resume")
        error = next(errors, None)
        if error is not None:
            raise error
        return service.start()

    service.interrupted_view = lambda: replace(interrupted, resumable=True)
    service.resume = fake_resume
    out["found_interrupted"] = batches.refresh_interrupted() is not None
    out["resume_poll"] = ops.batch_resume.poll()
    out["resume_error"] = ""
    try:
        ops.batch_resume()
    except RuntimeError as exc:
        out["resume_error"] = str(exc)
    ops.batch_resume()
    out["resume_calls"] = calls
    out["running_after_resume"] = batches.batch_running()
    out["interrupted_after"] = batches.interrupted_batch() is not None
    harness.pump_until(bridge.pump, lambda: not batches.batch_running(), timeout=60)
    # the resumed batch's rows are the scene's jobs again: status, times, the Job panel's box
    scene = bpy.context.scene
    out["resumed_rows"] = [batches.job_state_index(scene.name, job.uid) for job in scene.renderplus.jobs]
    out["resumed_states"] = [state.status for state in bpy.context.window_manager.renderplus_run.jobs]

    # An unsaved file asks where relative outputs go, instead of Blender's config folder.
    bpy.ops.wm.read_homefile(use_empty=False)
    # Cycles exists under one id in every Blender (4.2's home file says EEVEE_NEXT, which the
    # 5.0 stand-in binary rightly refuses): this part is about the output folder only.
    bpy.context.scene.render.engine = "CYCLES"
    ops.job_add()
    out["unsaved_output"] = bpy.context.scene.renderplus.jobs[0].output
    out["unsaved"] = render_error(ops)
    chosen = os.path.join(args["out"], "chosen")
    os.makedirs(chosen, exist_ok=True)
    out["unsaved_with_folder"] = render_error(ops, directory=chosen)
    harness.pump_until(bridge.pump, lambda: not batches.batch_running(), timeout=60)
    out["chosen_files"] = sorted(os.listdir(os.path.join(chosen, "renders"))) if os.path.isdir(
        os.path.join(chosen, "renders")) else []
    return out


def harness_error(addon: str, message: str) -> Exception:
    service_module = sys.modules[f"{addon}.batch.service"]
    return service_module.ServiceError(message)


if __name__ == "__main__":
    harness.run(main)
