"""In the bpy wheel: a job's movie from the N-panel, without rendering. The Movie box writes the
recipe's ``encode`` (none while off, none for a still or a job that writes a movie, and the panel
says why, greyed); an exported recipe's ``encode`` comes back on import. The poll's ``movie``
in each status, written through the pump's mirror as a batch would, is drawn as its line, and
a made movie's Play and folder buttons call ``wm.path_open`` with the movie and its folder.

Arguments (JSON): zip, blend (a path to save the factory scene at), export, movie (a file that
stands in for a made movie).
"""

from __future__ import annotations

import importlib
import os
from types import SimpleNamespace
from typing import Any

import harness
import ui_scenario


def drawn(addon: str) -> dict[str, Any]:
    found = ui_scenario.draw_everything(addon)
    return {key: found[key] for key in ("labels", "props", "operators", "disabled")}


def set_output(scene: Any, file_format: str) -> None:
    """The scene writes ``file_format`` (Blender 5.0 asks for its media type first)."""
    settings = scene.render.image_settings
    if "media_type" in settings.bl_rna.properties:
        settings.media_type = "VIDEO" if file_format == "FFMPEG" else "IMAGE"
    settings.file_format = file_format


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    bridge = harness.submodule(addon, "bridge")
    recipe_io, props = harness.submodule(addon, "recipe_io"), harness.submodule(addon, "props")
    ui_run = harness.submodule(addon, "ui_run")
    view = importlib.import_module(f"{addon}.batch.view")
    movie_state = importlib.import_module(f"{addon}.batch.encode.movie_state")
    ops = bpy.ops.renderplus
    out: dict[str, Any] = {}

    bpy.ops.wm.save_as_mainfile(filepath=args["blend"])  # "//" paths resolve beside it
    scene = bpy.context.scene
    set_output(scene, "PNG")
    settings = scene.renderplus
    ops.job_add()
    job = settings.jobs[0]
    out["defaults"] = [job.use_encode, job.encode_format, job.encode_fps, job.encode_output,
                       job.encode_audio]
    out["labels"] = [item.name for item in job.bl_rna.properties["encode_format"].enum_items]
    job.mode, job.frame_start, job.frame_end, job.format = "ANIMATION", 1, 24, "PNG"

    def encode() -> Any:
        data = recipe_io.recipe_dict(settings, blend_path=bpy.data.filepath, copy_path=args["blend"],
                                     blender_bin="", mail_password="", abspath=bpy.path.abspath,
                                     file_format=props.written_format)
        return data["jobs"][0].get("encode", "absent")

    out["off"] = encode()
    job.use_encode = True
    out["on"] = encode()
    out["on_drawn"] = drawn(addon)
    job.encode_format, job.encode_fps, job.encode_output, job.encode_audio = "webm", 30.0, "//movies/", False
    out["typed"] = encode()
    out["movies_folder"] = os.path.join(os.path.dirname(args["blend"]), "movies") + os.sep
    job.use_encode = False
    out["off_drawn"] = drawn(addon)
    job.use_encode = True

    ops.recipe_export(filepath=args["export"])
    job.use_encode, job.encode_format, job.encode_fps = False, "h264", 0.0
    ops.recipe_import(filepath=args["export"])
    job = settings.jobs[0]
    out["imported"] = [job.use_encode, job.encode_format, job.encode_fps, job.encode_output,
                       job.encode_audio]

    job.mode = "STILL"
    out["still"], out["still_drawn"] = encode(), drawn(addon)
    job.mode, job.format = "ANIMATION", "FFMPEG"
    out["ffmpeg"], out["ffmpeg_drawn"] = encode(), drawn(addon)
    job.format = "FILE"
    set_output(scene, "FFMPEG")
    out["scene_ffmpeg"], out["scene_ffmpeg_drawn"] = encode(), drawn(addon)
    set_output(scene, "PNG")
    out["scene_png"] = encode()

    # The run display: the poll's movie in each status, mirrored as the pump mirrors a batch.
    recipe = recipe_io.build_recipe(settings, blend_path=bpy.data.filepath, copy_path=args["blend"],
                                    blender_bin="", mail_password="", abspath=bpy.path.abspath,
                                    file_format=props.written_format)
    run = bpy.context.window_manager.renderplus_run
    mirror = bridge.state().mirror
    mirror.reset(run, recipe, scene=scene.name, uids=[job.uid])
    waiting = movie_state.waiting_movie("h264")
    encoding = waiting.on_marker({"event": "encode_progress", "done": 45, "total": 100}, converts=False)
    made = encoding.on_marker({"event": "movie", "path": args["movie"], "frames": 101, "fps": 24.0,
                               "seconds": 4.2, "sound": True}, converts=False)
    failed = encoding.on_marker({"event": "encode_failed", "message": "FFmpeg was not found"},
                                converts=False)
    cancelled = movie_state.MovieState(movie_state.MovieStatus.CANCELLED, "h264", "H.264 MP4")
    for revision, (key, status, movie) in enumerate((
            ("waiting", "RUNNING", waiting), ("encoding", "RUNNING", encoding),
            ("done", "FINISHED", made), ("failed", "FINISHED", failed),
            ("cancelled", "CANCELLED", cancelled)), start=1):
        jobs = (view.JobView(id=0, status=view.JobStatus(status), name=job.name, frames_total=24,
                             movie=movie.to_json()),)
        mirror.write(run, view.BatchView(status=view.BatchStatus.FINISHED, jobs=jobs, revision=revision))
        out[f"run_{key}"] = drawn(addon)
        if status == "RUNNING":  # the running batch's box, as drawn while the batch renders
            log: dict[str, list[Any]] = {kind: [] for kind in (
                "props", "labels", "operators", "menus", "lists", "progress", "icons", "disabled")}
            ui_run.draw_running(bpy.context, ui_scenario.CheckingLayout(log), run)
            out[f"running_{key}"] = log["labels"]
    mirror.write(run, view.BatchView(status=view.BatchStatus.FINISHED, revision=9, jobs=(
        view.JobView(id=0, status=view.JobStatus.FINISHED, name=job.name),)))
    out["run_none"] = drawn(addon)

    # Play and its folder: wm.path_open with the movie, then its folder; a movie that is gone
    # is refused by name and opens nothing.
    path_open: Any = bpy.ops.wm.path_open
    out["path_open_takes"] = sorted(p.identifier for p in path_open.get_rna_type().properties)
    calls: list[dict[str, Any]] = []

    def fake_path_open(**kwargs: Any) -> set[str]:
        calls.append(kwargs)
        return {"FINISHED"}

    operators: Any = bpy.ops  # a module whose __getattr__ makes bpy.ops.wm: an attribute wins
    operators.wm = SimpleNamespace(path_open=fake_path_open)
    try:
        out["play"] = sorted(ops.movie_open(filepath=args["movie"]))
        out["folder"] = sorted(ops.movie_open(filepath=args["movie"], folder=True))
        try:
            ops.movie_open(filepath=args["movie"] + ".gone")
            out["gone"] = "opened"
        except RuntimeError as exc:
            out["gone"] = str(exc)
    finally:
        del operators.wm
    out["path_open_calls"], out["movie"] = calls, args["movie"]
    out["wm_restored"] = hasattr(bpy.ops.wm, "path_open")
    return out


if __name__ == "__main__":
    harness.run(main)
