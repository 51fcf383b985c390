"""The engine's batch settings in the panel (bpy 5.0 and, with $RENDERPLUS_EXTRA_BPY, 4.2):
skip existing frames, retries, parallel jobs and Blender sessions are written into the recipe
only when set (a recipe at the defaults is unchanged), validated, drawn and imported back; and
with bpy 5.0 a real batch proves *Skip Existing Frames* keeps a frame already on disk."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, python_id, run_bpy_script

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]
UNCHANGED_SETTINGS = ["global_percentage", "global_size", "ignore_border", "rss", "write_log"]


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("batch-options")
    out = tmp / "renders"
    out.mkdir()
    args = {"zip": str(addon_zip), "blend": str(blend_factory(size=(32, 24), frames=2)),
            "out": str(out), "export": str(tmp / "recipe.json"),
            "render": request.param == sys.executable}   # one real render is proof enough
    result = run_bpy_script("batch_options_scenario.py", args, tmp, timeout=400, python=request.param)
    result["args"] = args
    return result


def test_at_the_defaults_the_recipe_is_what_it_always_was(scenario: dict[str, Any]) -> None:
    defaults = scenario["defaults"]
    assert defaults["props"] == [False, 1, False, 1, "AUTO"]
    assert defaults["written"] == UNCHANGED_SETTINGS
    assert defaults["validated"] == {"skip_existing": False, "retries": 1, "parallel": 1,
                                     "session_reuse": None}


def test_set_in_the_panel_they_are_written_and_validated(scenario: dict[str, Any]) -> None:
    chosen = {"skip_existing": True, "retries": 3, "parallel": 2, "session_reuse": False}
    assert {k: scenario["set"]["written"].get(k) for k in chosen} == chosen
    assert scenario["set"]["validated"] == chosen
    auto = {"skip_existing": True, "retries": 0, "parallel": "auto", "session_reuse": True}
    assert {k: scenario["auto"]["written"].get(k) for k in auto} == auto
    assert scenario["auto"]["validated"] == auto


def test_they_are_drawn_and_come_back_on_import(scenario: dict[str, Any]) -> None:
    for key in ("skip_existing", "retries", "parallel", "parallel_auto", "session_reuse"):
        assert f"RenderPlusBatchOptions.{key}" in scenario["drawn"]
    exported = json.loads(Path(scenario["args"]["export"]).read_text())["settings"]
    assert (exported["skip_existing"], exported["retries"], exported["parallel"],
            exported["session_reuse"]) == (True, 0, "auto", True)
    assert scenario["imported"] == [True, 0, True, "PER_FILE"]


def test_skip_existing_from_the_panel_keeps_a_frame_on_disk(scenario: dict[str, Any]) -> None:
    if not scenario["args"]["render"]:
        pytest.skip("the real render runs with bpy 5.0 only")
    assert scenario["first_finished"] and scenario["first_files"] == ["skip_0001.png"]
    assert scenario["second_finished"], scenario["second_job"]
    assert scenario["second_skip_existing"] is True
    assert scenario["second_files"] == ["skip_0001.png", "skip_0002.png"]
    assert scenario["frame_1_same_bytes"] and scenario["frame_1_same_mtime"]
    status, done, total, _messages = scenario["second_job"]
    assert status == "FINISHED" and (done, total) == (2, 2)
