"""In the bpy wheel: a job's "After Jobs" in the N-panel, without rendering. The field writes
the recipe's ``after`` (job numbers), a typo is the validator's error with its path, the field
keeps naming the same jobs when the list is reordered, copied or shortened, and an exported
recipe's ``after`` comes back on import.

Arguments (JSON): zip, blend (a path to save the factory scene at), export.
"""

from __future__ import annotations

from typing import Any

import harness
import ui_scenario


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    recipe_io = harness.submodule(addon, "recipe_io")
    ops = bpy.ops.renderplus
    out: dict[str, Any] = {}

    bpy.ops.wm.save_as_mainfile(filepath=args["blend"])
    settings = bpy.context.scene.renderplus
    for name in ("Plates", "Smoke", "Comp"):
        ops.job_add()
        settings.jobs[-1].name = name

    def afters() -> list[Any]:
        data = recipe_io.recipe_dict(settings, blend_path=bpy.data.filepath, copy_path=args["blend"],
                                     blender_bin="", mail_password="", abspath=bpy.path.abspath)
        return [job["after"] for job in data["jobs"]]

    out["default"] = afters()
    settings.jobs[2].after = "0, 1"
    out["written"] = afters()
    settings.active_job_index = 2
    out["drawn"] = ui_scenario.draw_everything(addon)["props"]
    settings.jobs[1].after = "x"
    try:
        recipe_io.build_recipe(settings, blend_path=bpy.data.filepath, copy_path=args["blend"],
                               blender_bin="", mail_password="", abspath=bpy.path.abspath)
        out["typo"] = "accepted"
    except Exception as exc:   # RecipeError, from the add-on's own copy of the engine
        out["typo"] = [(issue.path, issue.message) for issue in exc.errors]
    settings.jobs[1].after = ""

    settings.active_job_index = 0
    ops.job_move(direction="DOWN")           # Smoke, Plates, Comp
    out["moved"] = [(job.name, job.after) for job in settings.jobs]
    ops.job_duplicate()                      # Smoke, Plates, Plates (copy), Comp
    out["copied"] = [(job.name, job.after) for job in settings.jobs]
    settings.active_job_index = 0
    ops.job_remove()                         # Plates, Plates (copy), Comp
    out["removed"] = [(job.name, job.after) for job in settings.jobs]

    ops.recipe_export(filepath=args["export"])
    settings.jobs[2].after = ""
    ops.recipe_import(filepath=args["export"])
    out["imported"] = [(job.name, job.after) for job in settings.jobs]
    return out


if __name__ == "__main__":
    harness.run(main)
