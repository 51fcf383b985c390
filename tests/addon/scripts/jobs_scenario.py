"""In the bpy wheel: install the built zip, build a job list with the operators on a real scene,
and report the recipe it makes, the scene it was made from, and an export/import round trip.

Arguments (JSON): zip, blend (a 3.4 fixture with two cameras, markers, two scenes and two view
layers), export (path of the recipe file to write), webhook_url (the preferences' webhook URL).
"""

from __future__ import annotations

import os
from typing import Any

import harness


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    ops = bpy.ops.renderplus
    batches = harness.submodule(addon, "batch_lifecycle")
    paths = harness.submodule(addon, "paths")
    recipe_io = harness.submodule(addon, "recipe_io")
    ui = harness.submodule(addon, "ui")

    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    scene = bpy.context.scene
    settings = scene.renderplus
    if len(bpy.data.scenes) < 2:  # tests/blendfiles.py's extra scenes are not saved (no users)
        other = bpy.data.scenes.new("Scene2")
        other.collection.objects.link(bpy.data.objects["Cam2"])
        other.camera = bpy.data.objects["Cam2"]
    out: dict[str, Any] = {"blend_path": bpy.data.filepath}
    out["scene_data"] = {
        "scene": scene.name,
        "camera": scene.camera.name,
        "world": scene.world.name if scene.world else "",
        "frame_current": scene.frame_current,
        "frame_range": [scene.frame_start, scene.frame_end],
        "cameras": sorted(o.name for o in scene.objects if o.type == "CAMERA"),
        "markers": sorted([m.frame, m.name] for m in scene.timeline_markers),
        "scenes": [s.name for s in bpy.data.scenes],
        "scene_cameras": {s.name: s.camera.name if s.camera else "" for s in bpy.data.scenes},
        "layers": [layer.name for layer in scene.view_layers],
    }

    def jobs() -> list[dict[str, Any]]:
        return [{"name": j.name, "uid": j.uid, "enabled": j.enabled, "scene": j.scene,
                 "camera": j.camera, "world": j.world, "layer": j.layer, "mode": j.mode,
                 "frame_still": j.frame_still, "frame_start": j.frame_start,
                 "frame_end": j.frame_end, "output": j.output} for j in settings.jobs]

    ops.job_add()
    out["after_add"] = jobs()
    for source in ("CAMERAS", "MARKERS", "SCENES", "VIEW_LAYERS"):
        ops.jobs_from(source=source, replace=True)
        out[f"from_{source}"] = jobs()
    ops.jobs_from(source="CAMERAS", animation=True, replace=True)
    out["from_cameras_animated"] = jobs()

    # Editing: duplicate the first, move it, disable all, enable all, remove one.
    settings.active_job_index = 0
    ops.job_duplicate()
    out["after_duplicate"] = jobs()
    ops.job_move(direction="UP")
    out["after_move_up"] = jobs()
    out["active_after_move"] = settings.active_job_index
    ops.jobs_enable(enable=False)
    out["after_disable_all"] = [j.enabled for j in settings.jobs]
    ops.jobs_enable(enable=True)
    settings.active_job_index = 2
    ops.job_remove()
    out["after_remove"] = jobs()

    # Hooks and overrides reach the recipe with their types.
    settings.active_job_index = 0
    ops.hook_add(phase="PRE_JOB")
    settings.jobs[0].pre_job_hooks[0].cmd = "echo before"
    ops.hook_add(phase="POST_BATCH")
    settings.post_batch_hooks[0].cmd = "echo done"
    overrides = (("render.fps", "12"), ("render.use_border", "true"), ("render.film_transparent", "false"))
    for path, value in overrides:
        ops.override_add()
        override = settings.jobs[0].overrides[-1]
        override.path, override.value = path, value
    settings.jobs[1].engine = "CYCLES"
    settings.jobs[1].cycles_samples = 8
    settings.jobs[1].use_size = True
    settings.jobs[1].size = (320, 240)

    copy_path = str(paths.new_copy_path(bpy.data.filepath))
    recipe = recipe_io.build_recipe(settings, blend_path=bpy.data.filepath, copy_path=copy_path,
                                    blender_bin="/usr/bin/blender", mail_password="s3cret",
                                    abspath=paths.resolve_path)
    out["copy_path"] = copy_path
    out["user_dir"] = str(paths.user_dir())
    out["recipe"] = recipe.to_dict()

    # Export (password left out by default), clear, import: the same recipe comes back.
    ops.recipe_export(filepath=args["export"])
    exported = recipe_io.load_recipe_file(args["export"])
    out["exported_password"] = exported.notifications.mail.password
    out["exported_blend_file"] = exported.jobs[0].blend_file
    ops.jobs_clear()
    out["after_clear"] = len(settings.jobs)
    ops.recipe_import(filepath=args["export"])
    again = recipe_io.build_recipe(settings, blend_path=bpy.data.filepath, copy_path=copy_path,
                                   blender_bin="/usr/bin/blender", mail_password="s3cret",
                                   abspath=paths.resolve_path)
    out["reimported"] = again.to_dict()
    out["reimported_uids"] = [j.uid for j in settings.jobs]

    # The webhook: its settings from the panel, its URL (a secret) from the preferences, masked;
    # an export leaves the URL out ("***": one is set) unless asked for.
    prefs = bpy.context.preferences.addons[addon].preferences
    settings.webhook_enabled, settings.webhook_preset, settings.webhook_paused = True, "discord", False
    prefs.webhook_url = args["webhook_url"]
    for name, secrets in (("webhook_with_url", True), ("webhook_exported", False)):
        target = f"{args['export']}.{name}.json"
        ops.recipe_export(filepath=target, include_password=secrets)
        out[name] = recipe_io.load_recipe_file(target).notifications.webhook.to_dict()
    out["webhook_url_subtype"] = prefs.bl_rna.properties["webhook_url"].subtype
    settings.webhook_enabled, prefs.webhook_url = False, ""

    # A Blender preference that is no executable: rendering is refused with what to do.
    prefs.blender_bin = "/nonexistent/blender"
    try:
        ops.batch_render()
        out["no_binary_render"] = "started"
    except RuntimeError as exc:
        out["no_binary_render"] = str(exc)
    # Empty: the bpy module has no binary of its own, so choose_blender falls back to PATH.
    prefs.blender_bin = ""
    preferences = harness.submodule(addon, "preferences")
    out["default_blender_in_module"] = preferences.preferred_blender(prefs)
    prefs.blender_bin = "/usr/bin/blender"

    # A broken job: the render operator refuses it, names the field, and starts nothing.
    settings.jobs[0].mode = "ANIMATION"
    settings.jobs[0].frame_start, settings.jobs[0].frame_end = 10, 2
    out["invalid_job_name"] = settings.jobs[0].name
    try:
        ops.batch_render()
        out["invalid_render"] = "started"
    except RuntimeError as exc:
        out["invalid_render"] = str(exc)
    out["batch_after_invalid"] = batches.get_service().batch is not None

    # Importing a file that is not a recipe is refused with the reason.
    with open(args["export"], "w") as handle:
        handle.write('{"version": 2.2, "jobs": [{"id": 0, "frame_end": "x"}]}')
    try:
        ops.recipe_import(filepath=args["export"])
        out["bad_import"] = "imported"
    except RuntimeError as exc:
        out["bad_import"] = str(exc)

    # Blender installs the manifest's wheels for the extension (4.2+), outside the add-on folder.
    local = bpy.utils.user_resource("EXTENSIONS", path=".local")
    out["installed_wheels"] = sorted(
        name for _root, _dirs, files in os.walk(local) for name in files if name == "bottle.py")
    out["blender_version"] = bpy.app.version_string

    known = set(bpy.types.UILayout.bl_rna.functions["prop"].parameters["icon"].enum_items.keys())
    out["unknown_icons"] = sorted(ui.ICONS - known)
    out["is_dirty"] = bpy.data.is_dirty
    return out


if __name__ == "__main__":
    harness.run(main)
