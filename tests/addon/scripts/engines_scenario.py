"""In the bpy wheel: the job's engine menu offers the engines of the Blender that will render.
While the preference's Blender is still being asked, the running Blender's (EEVEE Next only in
4.2-4.5); once it answered, its own (a 4.3 stand-in: EEVEE Next; 3.4: EEVEE). A job holding an
engine that Blender lacks keeps it through an import, a copy, a save and a reopen, is shown
marked, goes into the recipe as it is, and the check before Render names the problem.

Arguments (JSON): zip, blend (a path to save at), fake43, fake34 (stand-in Blenders), recipe
(a path to write a recipe at).
"""

from __future__ import annotations

import json
from typing import Any

import harness


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    bridge = harness.submodule(addon, "bridge")
    batches = harness.submodule(addon, "batch_lifecycle")
    engine_items = harness.submodule(addon, "engine_items")
    job_checks = harness.submodule(addon, "job_checks")
    recipe_io = harness.submodule(addon, "recipe_io")
    prefs = bpy.context.preferences.addons[addon].preferences
    ops = bpy.ops.renderplus
    out: dict[str, Any] = {"version": list(bpy.app.version[:2])}

    bpy.ops.wm.save_as_mainfile(filepath=args["blend"])
    settings = bpy.context.scene.renderplus
    ops.job_add()
    job = settings.jobs[0]

    def menu() -> list[str]:
        return [item[0] for item in engine_items.job_engine_items(job, bpy.context)]

    def accepts(engine: str) -> bool:
        before = job.engine
        try:
            job.engine = engine
        except TypeError:
            return False
        job.engine = before
        return True

    def answered(binary: str) -> bool:
        return bool(harness.pump_until(bridge.pump, lambda: bridge.binary_info(binary) is not None,
                                       timeout=60))

    prefs.blender_bin = args["fake43"]
    out["asking"] = {"menu": menu(), "pending": bridge.binary_info(args["fake43"]) is None,
                     "accepts_next": accepts("BLENDER_EEVEE_NEXT"), "accepts_eevee": accepts("BLENDER_EEVEE")}
    out["answered_43"] = answered(args["fake43"])
    out["blender_43"] = {"menu": menu(), "accepts_next": accepts("BLENDER_EEVEE_NEXT")}
    prefs.blender_bin = args["fake34"]
    out["answered_34"] = answered(args["fake34"])
    out["blender_34"] = {"menu": menu(), "accepts_next": accepts("BLENDER_EEVEE_NEXT"),
                         "accepts_eevee": accepts("BLENDER_EEVEE")}

    # A recipe written for 4.3 imports with its engine kept, though 3.4 renders.
    recipe = {"version": 2.2, "jobs": [{"name": "Next", "blend_file": args["blend"],
                                        "engine": "BLENDER_EEVEE_NEXT"}]}
    with open(args["recipe"], "w", encoding="utf-8") as handle:
        json.dump(recipe, handle)
    ops.recipe_import(filepath=args["recipe"])
    job = settings.jobs[0]
    out["imported"] = [job.engine, job.engine_other]
    settings.active_job_index = 0
    ops.job_duplicate()
    out["copied"] = [j.engine for j in settings.jobs]
    bpy.ops.wm.save_mainfile()
    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    settings = bpy.context.scene.renderplus
    job = settings.jobs[0]
    out["reopened"] = [j.engine for j in settings.jobs]
    out["marked"] = [item[1] for item in engine_items.job_engine_items(job, bpy.context)
                     if item[0] == "BLENDER_EEVEE_NEXT"]
    data = recipe_io.recipe_dict(settings, blend_path=bpy.data.filepath, copy_path=args["blend"],
                                 blender_bin="", mail_password="", abspath=bpy.path.abspath)
    out["recipe_engines"] = [entry["engine"] for entry in data["jobs"]]
    binary = bridge.binary_info(batches.rendering_binary())
    out["problems"] = job_checks.job_problems(
        job, **batches.check_arguments(bpy.context.scene, binary))
    job.engine = "BLENDER_EEVEE"   # chosen from the menu: the marked entry is gone
    out["after_choice"] = menu()
    return out


if __name__ == "__main__":
    harness.run(main)
