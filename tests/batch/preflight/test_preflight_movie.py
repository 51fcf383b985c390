"""``--check`` of a job's ``encode``: the line saying which movie, how, with which FFmpeg, and
the problems that would stop it (no FFmpeg, an FFmpeg without the format's encoder, a movie
folder that cannot be made). The real FFmpeg, and a stand-in one that lists no such encoder."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.encode import FfmpegMissing, ffmpeg
from renderplus.batch.preflight import check_recipe
from renderplus.batch.preflight.movie import check_movie, first_frame_path
from renderplus.batch.recipe import parse_recipe
from tests.server.helpers import cli

BLENDER = shutil.which("blender") or "/usr/bin/blender"
FAKE_ENCODERS = """Encoders:
 V..... = Video
 ------
 V....D ffv1                 FFmpeg video codec #1
 A....D flac                 FLAC (Free Lossless Audio Codec)
 A....D pcm_s16le            PCM signed 16-bit little-endian
"""


def movie_recipe(base: Path, encode: dict[str, Any], **job: Any) -> Any:
    (base / "scene.blend").write_bytes(b"BLENDER-v304RENDH" + bytes(64))
    data = {"id": 0, "name": "Turntable", "blend_file": "scene.blend", "output": "out/shot_",
            "animated": True, "frame_start": 1, "frame_end": 48, "encode": encode, **job}
    return parse_recipe({"version": 2.2, "jobs": [data]}, base_dir=str(base))


def fake_ffmpeg(folder: Path) -> Path:
    """An FFmpeg that runs and answers, but has only FFV1, FLAC and PCM."""
    script = folder / "ffmpeg"
    script.write_text(f"#!{sys.executable}\nimport sys\n"
                      f"print({FAKE_ENCODERS!r} if '-encoders' in sys.argv else 'ffmpeg version 9.9-fake')\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def real_ffmpeg() -> Any:
    try:
        return ffmpeg({"PATH": os.environ.get("PATH", "")})
    except FfmpegMissing:
        pytest.skip("FFmpeg is not installed")


def test_the_line_says_where_how_and_with_what(tmp_path: Path) -> None:
    found = real_ffmpeg()
    check = check_movie((recipe := movie_recipe(tmp_path, {"format": "h264"})), recipe.jobs[0])
    assert check.line == (f"jobs[0]: movie {tmp_path / 'out' / 'shot.mp4'} (H.264 MP4, the scene's "
                          f"frame rate, sound if the scene has any) by FFmpeg {found.version} "
                          f"({found.path}) after the frames")
    assert check.problems == []


def test_a_named_movie_its_rate_and_no_sound(tmp_path: Path) -> None:
    recipe = movie_recipe(tmp_path, {"format": "webm", "fps": 25, "audio": False, "output": "movies/final"})
    line = check_movie(recipe, recipe.jobs[0]).line
    movie = tmp_path / "movies" / "final.webm"
    assert line.startswith(f"jobs[0]: movie {movie} (VP9 WebM, 25 fps, no sound) by ")


def test_a_folder_gets_the_name_from_the_frames(tmp_path: Path) -> None:
    recipe = movie_recipe(tmp_path, {"format": "prores", "output": "//movies/"},
                          output="//renders/Walk.####", frames="-3..5")
    assert first_frame_path(recipe, recipe.jobs[0]) == str(tmp_path / "renders" / "Walk.-0003.frame")
    line = check_movie(recipe, recipe.jobs[0]).line
    assert line.startswith(f"jobs[0]: movie {tmp_path / 'movies' / 'Walk.mov'} (ProRes 422 HQ MOV, ")


def test_frames_where_the_file_says_put_the_movie_beside_them(tmp_path: Path) -> None:
    recipe = movie_recipe(tmp_path, {"format": "h264"}, output="")
    check = check_movie(recipe, recipe.jobs[0])
    assert check.line.startswith("jobs[0]: movie beside the frames (the file's own output path) (H.264 MP4")


def test_no_ffmpeg_is_an_error_naming_what_to_do(tmp_path: Path) -> None:
    recipe = movie_recipe(tmp_path, {"format": "h264"})
    env = {"RENDERPLUS_FFMPEG": str(tmp_path / "no-ffmpeg"), "PATH": ""}
    check = check_movie(recipe, recipe.jobs[0], env)
    assert check.problems == [f"Cannot make a movie: RENDERPLUS_FFMPEG={tmp_path / 'no-ffmpeg'} is no "
                              "program (install FFmpeg: apt install ffmpeg, or set RENDERPLUS_FFMPEG "
                              "to its path)"]
    assert check.line.endswith("by no FFmpeg (none found) after the frames")


def test_an_ffmpeg_without_the_encoder_is_an_error(tmp_path: Path) -> None:
    fake = fake_ffmpeg(tmp_path)
    env = {"RENDERPLUS_FFMPEG": str(fake)}
    recipe = movie_recipe(tmp_path, {"format": "h264", "audio": False})
    check = check_movie(recipe, recipe.jobs[0], env)
    assert check.problems == [f"Cannot make the movie: this FFmpeg ({fake}, 9.9-fake) has no libx264 "
                              "encoder, which H.264 MP4 needs"]
    assert check.line.endswith(f"by FFmpeg 9.9-fake ({fake}) after the frames")
    lossless = movie_recipe(tmp_path, {"format": "ffv1"})
    assert check_movie(lossless, lossless.jobs[0], env).problems == []  # ffv1 and flac it has


def test_a_movie_folder_that_cannot_be_made_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    recipe = movie_recipe(tmp_path, {"format": "ffv1", "output": "taken/movies/shot.mkv"})
    problems = check_movie(recipe, recipe.jobs[0]).problems
    assert f"movie folder {tmp_path / 'taken' / 'movies'} cannot be created: {tmp_path / 'taken'} is a file" \
        in problems


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_a_movie_folder_without_write_permission_is_an_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    recipe = movie_recipe(tmp_path, {"format": "ffv1", "output": "locked/new/shot.mkv"})
    assert f"movie folder {locked / 'new'} cannot be created: {locked} is not writable" \
        in check_movie(recipe, recipe.jobs[0]).problems


@pytest.mark.blender
def test_check_recipe_reports_the_line_and_the_problems(tmp_path: Path) -> None:
    recipe = movie_recipe(tmp_path, {"format": "h264"})
    fake = fake_ffmpeg(tmp_path)
    report = check_recipe(recipe, BLENDER, ask_blender=False, env={"RENDERPLUS_FFMPEG": str(fake)})
    assert report.movies[0].startswith(f"jobs[0]: movie {tmp_path / 'out' / 'shot.mp4'} (H.264 MP4")
    assert [p.message for p in report.problems if p.job == 0] == [
        f"Cannot make the movie: this FFmpeg ({fake}, 9.9-fake) has no libx264 encoder, which "
        "H.264 MP4 needs"]


@pytest.mark.blender
@pytest.mark.slow
def test_the_command_line_check_prints_the_line_and_fails_without_ffmpeg(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({"version": 2.2, "jobs": [{
        "id": 0, "name": "Turntable", "blend_file": "scene.blend", "output": "out/shot_",
        "animated": True, "frame_end": 4, "encode": {"format": "h264"}}]}))
    subprocess.run([BLENDER, "-b", "--factory-startup", "--python-expr",
                    f"import bpy; bpy.ops.wm.save_as_mainfile(filepath={str(tmp_path / 'scene.blend')!r})"],
                   check=True, capture_output=True, timeout=120)
    found = real_ffmpeg()
    good = cli("--recipe", str(recipe), "--check")
    assert good.returncode == 0, good.stdout + good.stderr
    assert (f"         jobs[0]: movie {tmp_path / 'out' / 'shot.mp4'} (H.264 MP4, the scene's frame "
            f"rate, sound if the scene has any) by FFmpeg {found.version} ({found.path}) after the "
            "frames\n") in good.stdout
    missing = cli("--recipe", str(recipe), "--check", env={"RENDERPLUS_FFMPEG": str(tmp_path / "none")})
    assert missing.returncode == 1
    assert f"- Cannot make a movie: RENDERPLUS_FFMPEG={tmp_path / 'none'} is no program" in missing.stdout


def test_a_movie_beside_the_frames_leaves_their_folder_to_the_frames_check(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    recipe = movie_recipe(tmp_path, {"format": "ffv1"}, output="taken/shot_")
    assert check_movie(recipe, recipe.jobs[0]).problems == []
