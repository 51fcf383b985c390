"""Issue 26 in the bpy wheel (5.0, and 4.2 with $RENDERPLUS_EXTRA_BPY): the check before Render
resolves each custom override against the open file as the job script would, names the job,
the override and the bad part, says every problem at once; the panel labels Path and Value and
marks a bad override in red."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import SCRIPTS, bpy_pythons, python_id, run_bpy_script

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("overrides")
    out = tmp / "renders"
    out.mkdir()
    args = {"zip": str(addon_zip), "blend": str(blend_factory(name="overrides.blend")), "out": str(out),
            "fake_script": str(SCRIPTS / "fake_blender.py")}
    return run_bpy_script("overrides_scenario.py", args, tmp, timeout=300, python=request.param)


def test_every_bad_override_is_refused_at_once_naming_job_override_and_part(scenario: dict[str, Any]) -> None:
    message = scenario["refused"]
    assert message.startswith("Error: The batch cannot start: 3 problem(s)"), message
    assert ("Job 'Closeup': override 'render.fpz': the scene's render has no 'fpz' (did you mean 'fps'?)"
            in message)
    assert "Job 'Closeup': override 'render.fps' = 'abc': fps takes a whole number" in message
    assert ("""Job 'Wide': override 'data.objects["Cbe"].hide_render': bpy.data.objects has no 'Cbe' """
            "(did you mean 'Cube'?)" in message)
    assert "render.fps' = 24" not in message and 'objects["Cube"]' not in message
    assert "exit code" not in message


def test_for_another_blender_version_only_the_files_data_is_judged(scenario: dict[str, Any]) -> None:
    message = scenario["refused_other_version"]
    assert message.startswith("Error: The batch cannot start: 1 problem(s)"), message
    assert "bpy.data.objects has no 'Cbe'" in message and "fpz" not in message


def test_fixed_overrides_render(scenario: dict[str, Any]) -> None:
    assert scenario["after_fixing"] == "started"
    assert scenario["status"] == "FINISHED"


def test_the_panel_labels_path_and_value_and_marks_a_bad_override(scenario: dict[str, Any]) -> None:
    drawn = [(name, text, red) for name, text, red in scenario["labelled"] if name in ("path", "value")]
    assert drawn == [("path", "Path", True), ("value", "Value", True),   # render.fpz
                     ("path", "Path", True), ("value", "Value", True),   # render.fps = "abc"
                     ("path", "Path", False), ("value", "Value", False)]  # render.fps = 24
    assert not any(red for _name, _text, red in scenario["labelled_after"])
