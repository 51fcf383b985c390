"""A frame's pixels judged by a helper Blender (the frame reader's ``check`` op, and
``check_frames.py`` as a farm node runs it), with Blender 3.4 on frames it wrote itself; every
other version: tests/versions/test_matrix_frame_checks.py."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from renderplus.batch.frame_reader import FrameReader
from renderplus.batch.markers import parse_marker
from renderplus.batch.script_paths import CHECK_SCRIPT
from renderplus.blender_scripts import check_frames, pixel_checks
from renderplus.blender_scripts.frame_checks import check_file
from tests.batch.frame_fixtures import (
    BLACK,
    BLACK_EXR,
    BLACK_MULTILAYER,
    FILE_OUTPUT,
    NAN,
    ONE_BLACK_LAYER,
    write_frames,
)
from tests.blendfiles import BLENDER

pytestmark = [pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_frames(tmp_path_factory.mktemp("frames"))


@pytest.fixture(scope="module")
def reader() -> Iterator[FrameReader]:
    helper = FrameReader(BLENDER)
    yield helper
    helper.close()


def check(reader: FrameReader, path: Path | str, **fields: object) -> str | None:
    answer = reader.request("check", frame=str(path), **{"black": True, "nan": True, **fields})
    assert answer["ok"], answer
    problem = answer["problem"]
    assert problem is None or isinstance(problem, str)
    return problem


def truncated(frames: Path, name: str, size: int, tmp_path: Path) -> Path:
    target = tmp_path / f"cut_{Path(name).name}"
    target.write_bytes((frames / name).read_bytes()[:size])
    return target


@pytest.mark.parametrize("name", ["frame.png", "frame.jpg", "frame.exr", "multilayer.exr",
                                  "multilayer_piz.exr", "multilayer_dwaa.exr", FILE_OUTPUT,
                                  "frame.tif", "frame.hdr"])
def test_a_good_frame_passes(reader: FrameReader, frames: Path, name: str) -> None:
    assert check(reader, frames / name) is None


@pytest.mark.parametrize(("name", "problem"), [
    (BLACK, "black.png is uniformly black"),
    (BLACK_EXR, "black.exr is uniformly black"),
    (BLACK_MULTILAYER, "black_multilayer.exr is uniformly black in all 2 of its view layers"),
    (NAN, "nan.exr holds 2 NaN or infinite values"),
])
def test_a_black_or_nan_frame_is_named(reader: FrameReader, frames: Path, name: str,
                                       problem: str) -> None:
    assert check(reader, frames / name) == problem


def test_each_view_layer_of_a_multilayer_exr_is_composited_and_judged(
        reader: FrameReader, frames: Path) -> None:
    """Layer "Second" (first in the file) is black, "ViewLayer" is not: a frame with a black
    holdout layer is not a black frame."""
    assert check(reader, frames / ONE_BLACK_LAYER) is None


def test_black_and_nan_are_judged_only_when_asked(reader: FrameReader, frames: Path) -> None:
    assert check(reader, frames / BLACK, black=False) is None
    assert check(reader, frames / NAN, nan=False) is None
    assert check(reader, frames / NAN, nan=False, black=True) is None


def test_a_truncated_exr_is_a_load_failure_in_blender(reader: FrameReader, frames: Path,
                                                      tmp_path: Path) -> None:
    """Cut after its header, Blender 3.4 gives the image no pixels (0x0)."""
    size = (frames / "frame.exr").stat().st_size
    target = truncated(frames, "frame.exr", size - 200, tmp_path)
    assert check(reader, target, structure=False) == \
        f"Blender could not read {target.name} (it has no pixels)"


def test_a_frame_cut_in_its_header_is_named_without_blender_reading_it(
        reader: FrameReader, frames: Path, tmp_path: Path) -> None:
    """Blender 3.4 loops forever on an EXR cut inside its header: the reader never lets it."""
    target = truncated(frames, "frame.exr", 600, tmp_path)
    assert check(reader, target) == check_file(str(target))
    assert check(reader, tmp_path / "gone.exr") == "gone.exr is missing"


def test_the_farm_script_prints_one_marker_per_frame_and_fails_on_any(frames: Path,
                                                                      tmp_path: Path) -> None:
    cut = truncated(frames, "multilayer.exr", 9000, tmp_path)
    files = [frames / "frame.png", frames / BLACK, frames / NAN, cut, tmp_path / "gone.exr"]
    result = farm_check(["--black", "--nan", *map(str, files)])
    markers = [m for m in map(parse_marker, result.stdout.splitlines()) if m is not None]
    assert [(m["event"], m["path"]) for m in markers] == [("frame_checked", str(f)) for f in files]
    assert [m["problem"] for m in markers] == [
        None, "black.png is uniformly black", "nan.exr holds 2 NaN or infinite values",
        "cut_multilayer.exr is cut short: chunk 2 of 3 ends past the end of the file "
        "(9,000 of 13,344 bytes)", "gone.exr is missing"]
    assert result.returncode == 1


def test_the_farm_script_passes_good_frames_and_refuses_bad_arguments(frames: Path) -> None:
    good = farm_check([str(frames / "multilayer.exr"), str(frames / BLACK)])   # black not asked
    assert good.returncode == 0, good.stdout
    assert farm_check(["--blue", str(frames / BLACK)]).returncode == 2
    assert farm_check([]).returncode == 2


def test_the_scripts_markers_are_render_plus_markers() -> None:
    from renderplus.batch.markers import MARKER_PREFIX
    assert check_frames.PREFIX == MARKER_PREFIX
    assert pixel_checks.BLACK_LEVEL < pixel_checks.BLACK_LEVEL_DITHERED < 4 / 255


def farm_check(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BLENDER, "-b", "--factory-startup", "--python", str(CHECK_SCRIPT),
                           "--", *args], capture_output=True, text=True, timeout=120)
