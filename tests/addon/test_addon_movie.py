"""A job's movie in the N-panel (bpy 5.0, and bpy 4.2 with $RENDERPLUS_EXTRA_BPY), nothing
rendered: the Movie box writes the recipe's ``encode`` and reads it back, is greyed with the
reason for a still or a job that writes a movie, each movie status of a batch is drawn as its
line, and Play opens the movie and its folder through ``wm.path_open``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, python_id, run_bpy_script

pytestmark = [pytest.mark.bpy]

STILL = "A movie needs an animation: this job renders a still"


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("movie-ui")
    movie = tmp / "renders" / "shot.mp4"
    movie.parent.mkdir()
    movie.write_bytes(b"\x00\x00\x00\x18ftypmp42")  # stands in for a made movie
    args = {"zip": str(addon_zip), "blend": str(tmp / "movie.blend"),
            "export": str(tmp / "recipe.json"), "movie": str(movie)}
    return run_bpy_script("movie_ui_scenario.py", args, tmp, timeout=300, python=request.param)


def text(drawn: dict[str, Any], kind: str = "labels") -> str:
    """What was drawn as one text: wrapped lines read as one."""
    return " ".join(drawn[kind])


def test_the_movie_box_writes_encode_only_when_on(scenario: dict[str, Any]) -> None:
    assert scenario["defaults"] == [False, "h264", 0.0, "", True]
    assert scenario["labels"] == ["H.264 MP4", "ProRes 422 HQ", "FFV1 (lossless)", "WebM (VP9)"]
    assert scenario["off"] == "absent"
    assert scenario["on"] == {"format": "h264", "fps": None, "output": "", "audio": True}
    assert scenario["typed"] == {"format": "webm", "fps": 30.0, "output": scenario["movies_folder"],
                                 "audio": False}


def test_the_movie_box_draws_its_fields_dimmed_while_off(scenario: dict[str, Any]) -> None:
    on = scenario["on_drawn"]
    for name in ("use_encode", "encode_format", "encode_fps", "encode_output", "encode_audio"):
        assert f"RenderPlusJob.{name}" in on["props"], name
    assert "Made at the scene's frame rate, beside the frames, named after them" in on["labels"]
    assert not [p for p in on["disabled"] if "encode" in p]
    assert "Made at 30 fps, in that folder" in scenario["off_drawn"]["labels"]


def test_an_exported_recipes_encode_comes_back_on_import(scenario: dict[str, Any]) -> None:
    imported = scenario["imported"]
    assert imported[:3] == [True, "webm", 30.0] and imported[4] is False
    assert imported[3] == scenario["movies_folder"]


def test_a_still_or_a_movie_output_gets_no_encode_and_says_why_greyed(scenario: dict[str, Any]) -> None:
    assert scenario["still"] == scenario["ffmpeg"] == scenario["scene_ffmpeg"] == "absent"
    assert scenario["scene_png"] != "absent"
    still = scenario["still_drawn"]
    assert STILL in text(still) and STILL in text(still, "disabled")
    assert "RenderPlusJob.use_encode" in still["disabled"]
    assert "RenderPlusJob.encode_format" not in still["props"]
    assert "The job writes a movie already (its format is FFMPEG)" in text(scenario["ffmpeg_drawn"])
    scene_ffmpeg = scenario["scene_ffmpeg_drawn"]
    assert "the scene's output is FFMPEG" in text(scene_ffmpeg)
    assert "RenderPlusJob.use_encode" in scene_ffmpeg["disabled"]


def test_each_movie_status_is_drawn_as_its_line(scenario: dict[str, Any]) -> None:
    assert "Movie: waiting for the frames" in scenario["run_waiting"]["labels"]
    assert "Encoding movie… 45%" in scenario["run_encoding"]["labels"]
    assert "Movie: shot.mp4 (H.264 MP4, 4.2 s)" in scenario["run_done"]["labels"]
    assert "Movie failed: FFmpeg was not found" in text(scenario["run_failed"])
    assert "Movie cancelled (no partial movie left)" in scenario["run_cancelled"]["labels"]
    assert not any(label.startswith(("Movie", "Encoding movie")) for label in scenario["run_none"]["labels"])
    assert "Movie: waiting for the frames" in scenario["running_waiting"]
    assert "Encoding movie… 45%" in scenario["running_encoding"]


def test_a_made_movie_has_play_and_folder_buttons(scenario: dict[str, Any]) -> None:
    assert "renderplus.movie_open:Play" in scenario["run_done"]["operators"]
    assert "renderplus.movie_open:" in scenario["run_done"]["operators"]  # the folder icon
    for key in ("run_waiting", "run_encoding", "run_failed", "run_cancelled"):
        assert not [op for op in scenario[key]["operators"] if op.startswith("renderplus.movie_open")]


def test_play_opens_the_movie_and_its_folder_with_path_open(scenario: dict[str, Any]) -> None:
    assert "filepath" in scenario["path_open_takes"]
    movie = scenario["movie"]
    assert scenario["play"] == scenario["folder"] == ["FINISHED"]
    assert scenario["path_open_calls"] == [{"filepath": movie}, {"filepath": str(Path(movie).parent)}]
    assert "The movie is not there any more" in scenario["gone"] and "shot.mp4.gone" in scenario["gone"]
    assert scenario["wm_restored"]
