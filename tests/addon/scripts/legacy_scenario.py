"""In Debian's Blender 3.4 (``blender -b``): the same zip as a legacy add-on (``bl_info``), a
batch that renders a saved copy of the open file, unsaved edits included, watched by the pump.

Arguments (JSON): blend, out, port, addons (the folder the zip was unpacked into).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # Blender does not add it

import harness

ADDON = "renderplus"


def digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def main(args: dict[str, Any]) -> dict[str, Any]:
    import addon_utils
    import bpy

    out: dict[str, Any] = {"blender": bpy.app.version_string, "threads_before": harness.thread_names()}
    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    # The stub says enable() returns None; Blender returns the add-on's module.
    module = addon_utils.enable(ADDON, default_set=True)  # type: ignore[func-returns-value]
    out["module_file"] = module.__file__
    prefs = bpy.context.preferences.addons[ADDON].preferences
    prefs.server_port = args["port"]
    bridge = sys.modules[f"{ADDON}.addon.bridge"]
    server = sys.modules[f"{ADDON}.addon.server_lifecycle"]
    preferences = sys.modules[f"{ADDON}.addon.preferences"]
    out["job_blender"] = preferences.preferred_blender(prefs)  # default: this Blender

    settings = bpy.context.scene.renderplus
    bpy.ops.renderplus.jobs_from(source="CAMERAS", replace=True)
    for job in settings.jobs:
        job.output = os.path.join(args["out"], f"{job.camera}_")
    before = digest(args["blend"])
    bpy.data.objects["Cube"].name = "Edited Cube"  # an edit that is never saved

    bpy.ops.renderplus.server_start()
    url = server.server_url()
    out["test_route"] = harness.http_json(f"{url}/test")
    out["bottle_from"] = sys.modules["bottle"].__file__  # 3.4 installs no wheels: the bundled one

    bpy.ops.renderplus.batch_render()
    run = bpy.context.window_manager.renderplus_run
    copy_path = bridge.state().launch.copy_path
    # the pump (which removes the copy of an ended batch) is not called while this looks
    probe = subprocess.run(
        [bpy.app.binary_path, "-b", copy_path, "--python-expr",
         "import bpy; print('MESHES', sorted(o.name for o in bpy.data.objects if o.type == 'MESH'))"],
        capture_output=True, text=True, timeout=120)
    lines = [line for line in probe.stdout.splitlines() if line.startswith("MESHES")]
    out["edit_in_copy"] = lines[0][len("MESHES "):] if lines else None
    out["finished"] = harness.pump_until(bridge.pump, lambda: run.status == "FINISHED", timeout=240)
    out["run"] = {"status": run.status, "copy_path": run.copy_path, "progress": run.progress_value,
                  "rendertime": run.rendertime, "failed": run.failed}
    out["states"] = [[s.name, s.status, s.progress_value, s.rendertime, s.messages] for s in run.jobs]
    out["outputs"] = sorted(os.listdir(args["out"]))
    out["filepath_after"] = bpy.data.filepath
    out["file_unchanged"] = digest(args["blend"]) == before
    out["edit_in_memory"] = sorted(o.name for o in bpy.data.objects if o.type == "MESH")
    out["copy_after_batch"] = os.path.exists(copy_path)  # removed once its batch ended
    bpy.ops.renderplus.server_stop()
    addon_utils.disable(ADDON, default_set=True)
    out["classes_after_disable"] = harness.registered_names()
    out["threads_after"] = harness.thread_names(settle_to=out["threads_before"], timeout=7.0)
    out["children_after"] = harness.descendants()
    return out


if __name__ == "__main__":
    harness.run(main)
