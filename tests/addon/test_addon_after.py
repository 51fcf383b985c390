"""A job's "After Jobs" in the N-panel (bpy 5.0, and bpy 4.2 with $RENDERPLUS_EXTRA_BPY),
nothing rendered: it writes the recipe's ``after``, a typo is a validation error with its path,
the numbers follow the jobs when the list changes, and an import reads it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, python_id, run_bpy_script

pytestmark = [pytest.mark.bpy]


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("after-ui")
    args = {"zip": str(addon_zip), "blend": str(tmp / "after.blend"), "export": str(tmp / "recipe.json")}
    return run_bpy_script("after_scenario.py", args, tmp, timeout=300, python=request.param)


def test_after_jobs_writes_the_recipes_after_and_is_drawn(scenario: dict[str, Any]) -> None:
    assert scenario["default"] == [[], [], []]
    assert scenario["written"] == [[], [], [0, 1]]
    assert "RenderPlusJob.after" in scenario["drawn"]
    assert scenario["typo"] == [["jobs[1].after[0]", 'must be a job id, an integer from 0 (got "x")']]


def test_the_numbers_follow_the_jobs_and_come_back_on_import(scenario: dict[str, Any]) -> None:
    assert scenario["moved"] == [["Smoke", ""], ["Plates", ""], ["Comp", "1, 0"]]
    assert scenario["copied"] == [["Smoke", ""], ["Plates", ""], ["Plates (copy)", ""], ["Comp", "1, 0"]]
    assert scenario["removed"] == [["Plates", ""], ["Plates (copy)", ""], ["Comp", "0"]]
    assert scenario["imported"] == scenario["removed"]
