"""The end-to-end batch on every Blender version: Cycles, EEVEE (that version's id) and
Workbench; a still, an animation, a frame list; overrides of data paths; a border; the
compositor's File Output node; multilayer EXR. Each job's frames are read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import Batch, RunOptions
from tests.batch.conftest import make_recipe
from tests.blendfiles import file_output_script
from tests.versions.conftest import BlenderUnderTest, blender_script
from tests.versions.images import exr_channels, png_size

pytestmark = [pytest.mark.blender, pytest.mark.slow]

def run(recipe: Any, blender: BlenderUnderTest) -> dict[str, Any]:
    batch = Batch(recipe, RunOptions(blender_bin=blender.path))
    batch.run()
    return batch.snapshot()


def finished(entry: dict[str, Any], frames: int) -> list[str]:
    assert entry["status"] == "FINISHED", entry["messages"]
    assert entry["frames_done"] == frames and entry["progress"] == 100
    outputs: list[str] = entry["outputs"]
    assert all(Path(p).stat().st_size > 0 for p in outputs)
    return outputs


def test_every_engine_and_job_shape_renders(blender: BlenderUnderTest, blend_factory: Any,
                                            tmp_path: Path) -> None:
    cycles = blend_factory(engine="CYCLES", size=(32, 24), samples=4)
    workbench = blend_factory(engine="BLENDER_WORKBENCH", size=(32, 24))
    with_node = blender_script("blender", cycles, tmp_path / "file_output.blend",
                               file_output_script(str(tmp_path / "passes") + "/"))
    out = tmp_path / "out"
    recipe = make_recipe([
        {"blend_file": str(cycles), "output": str(out / "still_")},
        {"blend_file": str(cycles), "output": str(out / "list_####"), "frames": "1,3"},
        {"blend_file": str(cycles), "output": str(out / "eevee_"), "engine": blender.version.eevee},
        {"blend_file": str(workbench), "output": str(out / "wb_"), "animated": True,
         "frame_start": 1, "frame_end": 2},
        {"blend_file": str(workbench), "output": str(out / "wide_"),
         "custom_overrides": [{"path": "render.resolution_x", "value": 40},
                              {"path": "render.film_transparent", "value": True}]},
        {"blend_file": str(workbench), "output": str(out / "border_"),
         "section": {"enabled": True, "x": 0.0, "y": 0.0, "width": 0.5, "height": 0.5}},
        {"blend_file": str(with_node), "output": str(out / "main_"), "frames": "1-2"},
        {"blend_file": str(cycles), "output": str(out / "layers_"), "format": "OPEN_EXR_MULTILAYER"},
    ])
    snap = run(recipe, blender)
    assert snap["status"] == "FINISHED" and snap["failed"] == 0, [j["messages"] for j in snap["jobs"]]
    still, listed, eevee, wb, wide, border, node, layers = snap["jobs"]
    assert png_size(finished(still, 1)[0]) == (32, 24)
    assert still["engine"]["type"] == "CYCLES"
    assert [Path(p).name for p in finished(listed, 2)] == ["list_0001.png", "list_0003.png"]
    finished(eevee, 1)
    assert eevee["engine"]["type"] == blender.version.eevee
    assert len(finished(wb, 2)) == 2 and wb["engine"]["type"] == "BLENDER_WORKBENCH"
    assert png_size(finished(wide, 1)[0]) == (40, 24)     # the data path override applied
    assert png_size(finished(border, 1)[0]) in ((16, 12), (32, 24))   # cropped or not: a border
    passes = sorted(str(p) for p in (tmp_path / "passes").glob("pass_*.png"))
    node_outputs = finished(node, 2)    # two frames, each a main file and a File Output file
    assert len(passes) == 2 and set(passes) <= set(node_outputs) and len(node_outputs) == 4
    exr = finished(layers, 1)[0]
    assert exr.endswith(".exr")
    channels = exr_channels(exr)
    assert any(name.endswith("Combined.R") and "." in name[:-len("Combined.R")] for name in channels), \
        channels
