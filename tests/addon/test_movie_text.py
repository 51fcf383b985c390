"""A job's movie without Blender: the panel's lines for each state of the poll's ``movie``, the
Movie box's note, why a job cannot have a movie, and the ``encode`` key the Movie box writes
(and reads back from a recipe)."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from renderplus.addon import movie_text, recipe_io
from renderplus.batch.recipe import MOVIE_FORMAT_NAMES, parse_recipe


def test_each_movie_status_reads_as_one_line() -> None:
    line = movie_text.movie_line
    assert line("WAITING") == "Movie: waiting for the frames"
    assert line("ENCODING", progress=45.2) == "Encoding movie… 45%"
    assert line("DONE", path="/renders/shot.mp4", label="H.264 MP4", seconds=4.2) == \
        "Movie: shot.mp4 (H.264 MP4, 4.2 s)"
    assert line("DONE", path="/renders/shot.mov", label="ProRes 422 HQ MOV", seconds=125) == \
        "Movie: shot.mov (ProRes 422 HQ MOV, 2 min 05 s)"
    assert line("DONE", path="/renders/shot.mkv", label="FFV1 MKV (lossless)") == \
        "Movie: shot.mkv (FFV1 MKV (lossless))"   # no length known: none said
    assert line("FAILED", message="FFmpeg was not found") == "Movie failed: FFmpeg was not found"
    assert line("FAILED") == "Movie failed"
    assert line("CANCELLED").startswith("Movie cancelled")
    assert line("") == ""   # the job makes no movie


def test_the_movie_boxs_note_says_what_zero_and_empty_mean() -> None:
    assert movie_text.settings_note(0.0, "") == \
        "Made at the scene's frame rate, beside the frames, named after them"
    assert movie_text.settings_note(23.976, "/m/shot.mp4") == "Made at 23.976 fps, into that file"
    assert movie_text.settings_note(25.0, "//movies/") == "Made at 25 fps, in that folder"


def job(**changes: Any) -> Any:
    """A stand-in for a ``RenderPlusJob`` with every field recipe_io reads."""
    fields: dict[str, Any] = dict(
        name="shot", enabled=True, external=False, filepath="", output="//renders/shot_", layer="",
        mode="ANIMATION", engine="FILE", engine_other="", threads=0, use_size=False, size=(1920, 1080),
        scene="", camera="", world="", frame_still=1, frame_start=1, frame_end=48, format="PNG",
        use_section=False, section_x=0.0, section_y=0.0, section_width=1.0, section_height=1.0,
        cycles_samples=0, cycles_device="DEFAULT", overrides=[], pre_job_hooks=[], post_job_hooks=[],
        use_encode=True, encode_format="prores", encode_fps=0.0, encode_output="", encode_audio=True,
        after="")
    fields.update(changes)
    return SimpleNamespace(**fields)


def entry(props: Any, file_format: str = "") -> dict[str, Any]:
    return recipe_io.job_dict(props, 0, blend_path="/p/shots.blend", copy_path="/c/shots.blend",
                              abspath=lambda path: path.replace("//", "/p/", 1), file_format=file_format)


def test_the_movie_box_writes_the_encode_key_only_when_on() -> None:
    assert entry(job())["encode"] == {"format": "prores", "fps": None, "output": "", "audio": True}
    assert entry(job(encode_fps=23.976000785827637, encode_output="//movies/shot.mov",
                     encode_audio=False, encode_format="h264"))["encode"] == {
        "format": "h264", "fps": 23.976, "output": "/p/movies/shot.mov", "audio": False}
    assert "encode" not in entry(job(use_encode=False))


def test_a_still_or_a_movie_format_gets_no_encode_and_the_reason() -> None:
    still = job(mode="STILL")
    assert "encode" not in entry(still)
    assert recipe_io.encode_blocker(still) == "A movie needs an animation: this job renders a still"
    ffmpeg = job(format="FFMPEG")
    assert "encode" not in entry(ffmpeg)
    assert recipe_io.encode_blocker(ffmpeg).startswith(
        "The job writes a movie already (its format is FFMPEG)")
    from_file = job(format="FILE")
    assert "encode" not in entry(from_file, file_format="FFMPEG")
    assert "the scene's output is FFMPEG" in recipe_io.encode_blocker(from_file, "FFMPEG")
    assert "encode" in entry(from_file, file_format="OPEN_EXR")
    assert "encode" in entry(from_file)   # an external file's format: only Blender knows it
    assert recipe_io.encode_blocker(job()) == ""


def test_the_encode_key_passes_the_validator_and_reads_back_into_the_movie_box() -> None:
    data = entry(job(encode_fps=25.0, encode_output="/m/shot.mov"))
    recipe = parse_recipe({"version": 2.2, "jobs": [data]})
    props = job(use_encode=False, encode_format="h264", encode_fps=0.0, encode_output="",
                encode_audio=False)
    recipe_io.apply_encode(recipe.jobs[0].encode, props)
    assert (props.use_encode, props.encode_format, props.encode_fps, props.encode_output,
            props.encode_audio) == (True, "prores", 25.0, "/m/shot.mov", True)
    recipe_io.apply_encode(None, props)
    assert not props.use_encode and props.encode_format == "prores"  # kept for the next time


def test_the_box_offers_the_recipes_formats() -> None:
    """props.py imports bpy, so its format items are read from its source."""
    tree = ast.parse((Path(recipe_io.__file__).parent / "props.py").read_text(encoding="utf-8"))
    items = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "MOVIE_FORMAT_ITEMS" for t in node.targets))
    assert isinstance(items, ast.List)
    offered = [item.elts[0].value for item in items.elts
               if isinstance(item, ast.Tuple) and isinstance(item.elts[0], ast.Constant)]
    assert offered == list(MOVIE_FORMAT_NAMES)
