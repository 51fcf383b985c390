"""The previews of EXR, multilayer EXR and TIFF frames on every Blender version: the frame reader
(a helper Blender of the version that rendered the frames, never the rendering one) makes a JPEG
per frame, and the dashboard's route serves it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.frame_reader import READER_FLAG
from renderplus.batch.runner import Batch
from tests.batch.conftest import make_recipe
from tests.procs import processes_with
from tests.server.test_dashboard_previews import FORMATS, FRAMES, assert_a_served_preview_per_frame
from tests.versions.conftest import BlenderUnderTest
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]


def test_each_frame_of_every_format_gets_its_preview(blender: BlenderUnderTest, tmp_path: Path,
                                                     blend_factory: Callable[..., Path]) -> None:
    blend = blend_factory(engine="BLENDER_WORKBENCH", size=(400, 300), frames=FRAMES)
    recipe = make_recipe([{"blend_file": str(blend), "output": str(tmp_path / fmt.lower() / "f_"),
                           "animated": True, "frame_start": 1, "frame_end": FRAMES, "format": fmt}
                          for fmt in FORMATS], blender_bin=blender.path, settings={"retries": 0})
    batch = Batch(recipe)
    batch.start()
    assert batch.wait(300)
    view = batch.view()
    assert [job.status for job in view.jobs] == ["FINISHED"] * len(FORMATS), \
        [job.messages for job in view.jobs]
    assert_a_served_preview_per_frame(view)
    wait_for(lambda: not processes_with(READER_FLAG), timeout=30)   # the reader ended with it
