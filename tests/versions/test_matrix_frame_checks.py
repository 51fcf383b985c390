"""Frames checked whole by every Blender version's frame reader (the ``check`` op): a good frame
passes, a black and a NaN frame are named, and a truncated EXR is a load failure in Blender
itself (no pixels), not only in Render+'s own structural check. The frames are written by 3.4."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from renderplus.batch.frame_reader import FrameReader
from tests.batch.frame_fixtures import BLACK, BLACK_MULTILAYER, NAN, write_frames
from tests.versions.conftest import BlenderUnderTest

pytestmark = [pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_frames(tmp_path_factory.mktemp("checked-frames"))
    whole = (folder / "frame.exr").read_bytes()
    (folder / "truncated.exr").write_bytes(whole[:len(whole) - 200])   # inside its last chunk
    (folder / "truncated_multilayer.exr").write_bytes((folder / "multilayer.exr").read_bytes()[:9000])
    return folder


@pytest.fixture
def reader(blender: BlenderUnderTest) -> Iterator[FrameReader]:
    helper = FrameReader(blender.path)
    yield helper
    helper.close()


def check(reader: FrameReader, path: Path, **fields: object) -> str | None:
    answer = reader.request("check", frame=str(path), **{"black": True, "nan": True, **fields})
    assert answer["ok"], answer
    problem = answer["problem"]
    assert problem is None or isinstance(problem, str)
    return problem


def test_every_version_judges_the_pixels_of_frames_3_4_wrote(reader: FrameReader,
                                                             frames: Path) -> None:
    assert check(reader, frames / "frame.png") is None
    assert check(reader, frames / "multilayer.exr") is None
    assert check(reader, frames / BLACK) == "black.png is uniformly black"
    assert check(reader, frames / BLACK_MULTILAYER) == \
        "black_multilayer.exr is uniformly black in all 2 of its view layers"
    assert check(reader, frames / NAN) == "nan.exr holds 2 NaN or infinite values"


def test_every_version_reads_no_pixels_from_a_truncated_exr(reader: FrameReader,
                                                            frames: Path) -> None:
    assert check(reader, frames / "truncated.exr", structure=False) == \
        "Blender could not read truncated.exr (it has no pixels)"
    problem = check(reader, frames / "truncated_multilayer.exr")   # Render+'s check names it
    assert problem is not None and problem.startswith("truncated_multilayer.exr is cut short: ")
