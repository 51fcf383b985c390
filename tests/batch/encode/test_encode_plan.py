"""The encode's pure parts: the recipe key, the movie's name and path, the plan, whether a
resume encodes again, the formats table, FFmpeg's lookup, frame sizes from headers, the poll's
``movie``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from renderplus.batch.encode import (
    FORMATS,
    FfmpegMissing,
    MovieStatus,
    NoMovie,
    ffmpeg,
    needs_encoding,
    plan_encode,
    stall_seconds,
)
from renderplus.batch.encode.command import STALL_SECONDS, encode_argv, encode_config
from renderplus.batch.encode.movie_state import MovieState, waiting_movie
from renderplus.batch.recipe import MOVIE_FORMAT_NAMES, RecipeError
from renderplus.batch.recipe.crosscheck import MOVIE_EXTENSIONS
from renderplus.blender_scripts import image_sizes, movie_name
from tests.batch.conftest import make_recipe


def animation(tmp_path: Path, **encode: object) -> dict[str, object]:
    return {"blend_file": str(tmp_path / "shot.blend"), "animated": True, "frame_start": 1,
            "frame_end": 3, "output": str(tmp_path / "out" / "shot_####"), "encode": encode}


# ---------------------------------------------------------------- the recipe key

def test_encode_is_read_with_its_defaults_and_written_back(tmp_path: Path) -> None:
    recipe = make_recipe([animation(tmp_path), {"blend_file": "/a.blend"}])
    encode = recipe.jobs[0].encode
    assert encode is not None and (encode.format, encode.fps, encode.output, encode.audio) == (
        "h264", None, "", True)
    assert recipe.jobs[0].to_dict()["encode"] == {"format": "h264", "fps": None, "output": "",
                                                  "audio": True}
    assert recipe.jobs[1].encode is None and "encode" not in recipe.jobs[1].to_dict()
    assert make_recipe([{**animation(tmp_path), "encode": None}]).jobs[0].encode is None


def test_every_encode_problem_is_reported_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(RecipeError) as caught:
        make_recipe([
            {"blend_file": "/a.blend", "encode": {}},                                   # a still
            {**animation(tmp_path), "format": "FFMPEG"},                                # a movie already
            animation(tmp_path, format="mov", fps=0, audio="yes"),
            animation(tmp_path, format="h264", output="/movies/shot.webm"),
            {**animation(tmp_path), "encode": "h264"},
        ])
    said = {(issue.path, issue.message.split(" (")[0].split(":")[0]) for issue in caught.value.errors}
    assert ("jobs[0].encode", "needs an animation") in said
    assert ("jobs[1].encode", "the job writes a movie already") in said
    assert ("jobs[2].encode.format", "must be one of h264, prores, ffv1, webm") in said
    assert ("jobs[2].encode.fps", "must be above 0 and at most 1000") in said
    assert ("jobs[2].encode.audio", "must be true or false") in said
    assert ("jobs[3].encode.output", "ends in .webm, but format h264 writes .mp4 files") in said
    assert ("jobs[4].encode", "must be an object") in said


def test_the_formats_table_is_the_recipes_list_and_extensions() -> None:
    assert tuple(FORMATS) == MOVIE_FORMAT_NAMES
    assert {name: f.extension for name, f in FORMATS.items()} == MOVIE_EXTENSIONS


# ---------------------------------------------------------------- the movie's name and path

@pytest.mark.parametrize(("frame", "movie"), [
    ("/out/shot_0001.png", "/out/shot.mp4"),
    ("/out/shot.0001.exr", "/out/shot.mp4"),
    ("/out/shot-v2_-0005.png", "/out/shot-v2.mp4"),
    ("/out/0001.png", "/out/Hero shot.mp4"),
])
def test_the_movie_is_named_after_its_frames(frame: str, movie: str) -> None:
    assert movie_name.default_movie_path(frame, ".mp4", "Hero shot") == movie


def test_an_output_folder_gets_the_default_name_and_a_bare_name_the_extension(tmp_path: Path) -> None:
    assert movie_name.movie_path(f"{tmp_path}/", ".mov", "/out/a_0001.exr", "x") == f"{tmp_path}/a.mov"
    assert movie_name.movie_path(str(tmp_path), ".mov", "/out/a_0001.exr", "x") == f"{tmp_path}/a.mov"
    assert movie_name.movie_path("/m/final", ".mkv", "/out/a_0001.exr", "x") == "/m/final.mkv"
    assert movie_name.partial_path("/m/final.mkv") == "/m/.final.partial.mkv"
    assert movie_name.safe_name('a/b:c') == "a_b_c"


def frames_on_disk(tmp_path: Path, count: int = 3) -> dict[int, list[str]]:
    folder = tmp_path / "out"
    folder.mkdir(exist_ok=True)
    done = {}
    for frame in range(1, count + 1):
        path = folder / f"shot_{frame:04d}.png"
        path.write_bytes(b"\x89PNG frame")
        done[frame] = [str(path)]
    return done


def test_the_plan_takes_the_frames_in_order_and_the_output_asked_for(tmp_path: Path) -> None:
    recipe = make_recipe([animation(tmp_path, format="prores", output="movies/"),
                          animation(tmp_path, output="//cut")])
    done = frames_on_disk(tmp_path)
    plan = plan_encode(recipe, recipe.jobs[0], done)
    assert plan.paths == tuple(done[f][0] for f in (1, 2, 3)) and plan.frames == (1, 2, 3)
    assert plan.movie == os.path.join(recipe.resolve("movies"), "shot.mov")
    assert plan.partial.endswith("/.shot.partial.mov")
    assert plan_encode(recipe, recipe.jobs[1], done).movie == str(tmp_path / "cut.mp4")


def test_no_movie_from_missing_frames_or_movie_files(tmp_path: Path) -> None:
    recipe = make_recipe([animation(tmp_path)])
    done = frames_on_disk(tmp_path)
    del done[2]
    with pytest.raises(NoMovie, match=r"1 of 3 frames are missing \(2\)"):
        plan_encode(recipe, recipe.jobs[0], done)
    with pytest.raises(NoMovie, match="wrote a movie"):
        plan_encode(recipe, recipe.jobs[0], {f: [f"/out/take{f}.mp4"] for f in (1, 2, 3)})


def test_a_resume_encodes_only_a_missing_or_older_movie(tmp_path: Path) -> None:
    recipe = make_recipe([animation(tmp_path)])
    done = frames_on_disk(tmp_path)
    plan = plan_encode(recipe, recipe.jobs[0], done)
    assert needs_encoding(plan)                     # no movie yet
    Path(plan.movie).write_bytes(b"movie")
    newest = max(os.stat(p[0]).st_mtime_ns for p in done.values())
    os.utime(plan.movie, ns=(newest + 10**9, newest + 10**9))
    assert not needs_encoding(plan)                 # newer than every frame
    os.utime(done[3][0], ns=(newest + 2 * 10**9, newest + 2 * 10**9))
    assert needs_encoding(plan)                     # a frame rendered again since


# ---------------------------------------------------------------- the command and its settings

def test_the_command_opens_the_jobs_file_with_its_scene_output_and_script(tmp_path: Path) -> None:
    recipe = make_recipe([{**animation(tmp_path), "scene": "Shot", "format": "OPEN_EXR"}])
    job = recipe.jobs[0]
    argv = encode_argv(recipe, job, blender="/opt/blender", config_path="/t/encode.json")
    assert argv[:5] == ["/opt/blender", "-b", str(tmp_path / "shot.blend"), "-S", "Shot"]
    assert argv[argv.index("-o") + 1].endswith("out/shot_####") and "OPEN_EXR" in argv
    assert argv[-2:] == ["--renderplus-encode", "/t/encode.json"]
    assert argv[argv.index("--python") + 1].endswith("blender_scripts/encode_movie.py")
    config = encode_config(recipe, job, movie="/m.mp4", ffmpeg="/usr/bin/ffmpeg", workdir="/t",
                           paths=None)
    assert config["paths"] is None and config["frames"] == [1, 2, 3]
    assert config["ffmpeg"]["encoder"] == "libx264" and "-crf" in config["ffmpeg"]["video"]
    assert config["job"]["scene"] == "Shot" and config["stall_seconds"] == STALL_SECONDS


def test_the_stall_limit_can_be_set_but_not_to_nonsense() -> None:
    assert stall_seconds({"RENDERPLUS_ENCODE_STALL_SECONDS": "2.5"}) == 2.5
    assert stall_seconds({"RENDERPLUS_ENCODE_STALL_SECONDS": "soon"}) == STALL_SECONDS
    assert stall_seconds({"RENDERPLUS_ENCODE_STALL_SECONDS": "-1"}) == STALL_SECONDS
    assert stall_seconds({}) == STALL_SECONDS


# ---------------------------------------------------------------- FFmpeg

def test_the_real_ffmpeg_has_every_format_and_a_missing_one_says_what_to_do(tmp_path: Path) -> None:
    found = ffmpeg({"PATH": os.environ["PATH"]})
    assert all(found.lacks(f, audio=True) is None for f in FORMATS.values()), found.path
    with pytest.raises(FfmpegMissing, match="apt install ffmpeg"):
        ffmpeg({"PATH": str(tmp_path)})
    with pytest.raises(FfmpegMissing, match="RENDERPLUS_FFMPEG=/nowhere/ffmpeg is no program"):
        ffmpeg({"RENDERPLUS_FFMPEG": "/nowhere/ffmpeg", "PATH": os.environ["PATH"]})


def test_an_ffmpeg_without_the_formats_encoder_is_named(tmp_path: Path) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'ffmpeg version 0.1-tiny'\n"
                    "echo ' V....D libx264              H.264'\n")
    fake.chmod(0o755)
    tiny = ffmpeg({"RENDERPLUS_FFMPEG": str(fake)})
    assert tiny.version == "0.1-tiny"
    assert tiny.lacks(FORMATS["h264"]) is None
    assert "has no prores_ks encoder, which ProRes 422 HQ MOV needs" in str(tiny.lacks(FORMATS["prores"]))
    assert "has no aac encoder" in str(tiny.lacks(FORMATS["h264"], audio=True))


# ---------------------------------------------------------------- frame sizes from headers

@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".bmp", ".exr", ".tga"])
def test_a_frames_size_is_read_from_its_header(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"frame{suffix}"
    pix = ["-pix_fmt", "rgb48le"] if suffix == ".exr" else []
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=70x38", "-frames:v", "1",
                    *pix, str(path)], check=True, timeout=60)
    assert image_sizes.frame_size(str(path)) == (70, 38)


def test_an_unknown_format_has_no_size_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "frame.dpx"
    path.write_bytes(b"SDPX" + bytes(100))
    assert image_sizes.frame_size(str(path)) is None


# ---------------------------------------------------------------- the poll's movie

def test_the_movie_follows_the_scripts_markers() -> None:
    movie = waiting_movie("h264")
    assert movie.to_json()["status"] == "WAITING" and movie.label == "H.264 MP4"
    movie = movie.on_marker({"event": "encode_ready", "movie": "/m.mp4", "frames": 10, "fps": 24.0,
                             "colour": "Filmic view", "sound": "the scene's sound"}, converts=True)
    assert movie.status is MovieStatus.ENCODING and movie.path == "/m.mp4"
    halfway = movie.on_marker({"event": "encode_progress", "stage": "colour", "done": 5, "total": 10},
                              converts=True)
    assert halfway.progress == 25.0
    assert movie.on_marker({"event": "encode_progress", "stage": "encode", "done": 5, "total": 10},
                           converts=False).progress == 50.0
    done = halfway.on_marker({"event": "movie", "path": "/m.mp4", "frames": 10, "fps": 24.0,
                              "seconds": 0.4, "sound": True}, converts=True)
    assert (done.status, done.progress, done.seconds, done.sound) == (MovieStatus.DONE, 100.0, 0.4, True)
    assert MovieState.from_json(done.to_json()) == done
    failed = movie.on_marker({"event": "encode_failed", "message": "FFmpeg crashed"}, converts=True)
    assert failed.status is MovieStatus.FAILED and failed.message == "FFmpeg crashed"
    assert MovieState.from_json({"status": "nonsense"}) is None
