"""The previews of EXR, multilayer EXR and TIFF frames on every Blender version: the frame reader
(a helper Blender of the version that rendered the frames, never the rendering one) makes a JPEG
per frame, and the dashboard's route serves it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.frame_reader import READER_FLAG
from tests.procs import processes_with
from tests.server.test_dashboard_previews import assert_a_served_preview_per_frame, run_formats
from tests.versions.conftest import BlenderUnderTest
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]


def test_each_frame_of_every_format_gets_its_preview(blender: BlenderUnderTest, tmp_path: Path,
                                                     blend_factory: Callable[..., Path]) -> None:
    assert_a_served_preview_per_frame(run_formats(tmp_path, blend_factory, blender_bin=blender.path))
    wait_for(lambda: not processes_with(READER_FLAG), timeout=30)   # the reader ended with it
