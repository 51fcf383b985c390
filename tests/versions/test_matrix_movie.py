"""Movies on every Blender version, with the real FFmpeg: PNG, EXR and multilayer EXR frames of a
scene with values above 1.0 become movies (codec, frame count, duration), and the EXR movies'
frames match the PNG render of the same frames, mean and 99th percentile, through the scene's
own view transform: Filmic with exposure 0.7 (3.4), AgX (4.3, 5.2: set by a job override, so
the encode applies the job's overrides as its render did)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import Batch, RunOptions
from tests.batch.conftest import make_recipe
from tests.blendfiles import make_blend
from tests.movie_checks import HDR_SCENE, blend_with_sound, difference, pixels, probe
from tests.versions.conftest import BlenderUnderTest, blender_script

pytestmark = [pytest.mark.blender, pytest.mark.slow]

WIDTH, HEIGHT, FRAMES = 96, 64, 3
# Measured (3.4/4.3/5.2): EXR -> FFV1 mean 0.43-0.79, p99 1-2 levels (16-bit intermediates against
# Blender's own dithered 8-bit PNG); PNG -> H.264 (4:2:0, CRF 18) mean 1.4, p99 3.
LOSSLESS_MEAN, LOSSLESS_P99 = 1.0, 3.0
LOSSY_MEAN, LOSSY_P99 = 2.5, 6.0


def view_of(blender: BlenderUnderTest) -> list[dict[str, Any]]:
    """The job overrides that pick the version's view transform (3.4: the file's Filmic)."""
    if blender.version.name == "3.4":
        return []
    return [{"path": "view_settings.view_transform", "value": "AgX"}]


def test_png_and_exr_frames_become_movies_in_the_colours_of_the_png_render(
        blender: BlenderUnderTest, tmp_path: Path) -> None:
    hdr = blender_script("blender", make_blend(tmp_path), tmp_path / "hdr.blend", HDR_SCENE)
    overrides = view_of(blender)
    out = tmp_path / "out"

    def job(name: str, image_format: str, movie: str) -> dict[str, Any]:
        return {"blend_file": str(hdr), "output": str(out / name / "shot_####"), "animated": True,
                "frame_start": 1, "frame_end": FRAMES, "format": image_format,
                "custom_overrides": overrides, "encode": {"format": movie}}

    recipe = make_recipe([job("png", "PNG", "h264"), job("exr", "OPEN_EXR", "ffv1"),
                          job("multilayer", "OPEN_EXR_MULTILAYER", "ffv1"),
                          job("png_lossless", "PNG", "ffv1")])
    batch = Batch(recipe, RunOptions(blender_bin=blender.path))
    batch.run()
    jobs = batch.snapshot()["jobs"]
    for entry in jobs:
        assert entry["status"] == "FINISHED", entry["messages"]
        assert entry["movie"]["status"] == "DONE", entry["movie"]
    movies = {name: Path(entry["movie"]["path"]) for name, entry in
              zip(("png", "exr", "multilayer", "png_lossless"), jobs, strict=True)}
    assert movies["png"] == out / "png" / "shot.mp4"     # beside the frames, named after them
    expected_view = "Filmic" if blender.version.name == "3.4" else "AgX"
    assert jobs[1]["movie"]["colour"] == f"{expected_view} view"
    assert jobs[0]["movie"]["colour"] == "as written"

    for name, codec in (("png", "h264"), ("exr", "ffv1"), ("multilayer", "ffv1")):
        probed = probe(movies[name])
        assert probed.codec == codec
        assert probed.frames == FRAMES
        assert probed.duration == pytest.approx(FRAMES / 24, abs=0.02)
        assert probed.width >= WIDTH and probed.height >= HEIGHT

    reference = pixels(out / "png" / "shot_%04d.png", WIDTH, HEIGHT)   # Blender's own PNG render
    assert reference.shape == (FRAMES, HEIGHT, WIDTH, 3)
    assert reference.max() > 200 and reference.mean() > 40             # a lit, graded picture
    for name, (mean_limit, p99_limit) in (("exr", (LOSSLESS_MEAN, LOSSLESS_P99)),
                                          ("multilayer", (LOSSLESS_MEAN, LOSSLESS_P99)),
                                          ("png_lossless", (LOSSLESS_MEAN, LOSSLESS_P99)),
                                          ("png", (LOSSY_MEAN, LOSSY_P99))):
        mean, p99 = difference(pixels(movies[name], WIDTH, HEIGHT), reference)
        assert mean <= mean_limit and p99 <= p99_limit, (name, mean, p99)
    # The view transform is really applied: the EXR frames shown as "Standard" would differ.
    standard = make_recipe([{**job("standard", "OPEN_EXR", "ffv1"), "custom_overrides": [
        {"path": "view_settings.view_transform", "value": "Standard"}]}])
    again = Batch(standard, RunOptions(blender_bin=blender.path))
    again.run()
    plain = again.snapshot()["jobs"][0]["movie"]["path"]
    mean, _ = difference(pixels(plain, WIDTH, HEIGHT), reference)
    assert mean > 8, mean


def test_the_scenes_sound_is_mixed_into_the_movie(blender: BlenderUnderTest, tmp_path: Path) -> None:
    recipe = make_recipe([{"blend_file": str(blend_with_sound(tmp_path)), "animated": True,
                           "frame_start": 1, "frame_end": 12, "format": "PNG",
                           "output": str(tmp_path / "out" / "shot_####"), "encode": {"format": "prores"}}])
    batch = Batch(recipe, RunOptions(blender_bin=blender.path))
    batch.run()
    job = batch.snapshot()["jobs"][0]
    assert job["status"] == "FINISHED" and job["movie"]["sound"] is True, job["messages"]
    movie = probe(job["movie"]["path"])
    assert (movie.codec, movie.audio, movie.frames) == ("prores", "pcm_s16le", 12)
