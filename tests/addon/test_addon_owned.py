"""The add-on's Resume while another live Render+ owns the batch (bpy 5.0, and 4.2 when
given): refused with the sentence naming that process, the panel says who runs it, and once
that process is killed Resume takes the batch over (docs/api.md, One owner per batch)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, python_id, run_bpy_script

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    blend = blend_factory(samples=8, name="owned.blend")
    tmp = tmp_path_factory.mktemp("owned")
    out = tmp / "renders"
    out.mkdir()
    args = {"zip": str(addon_zip), "blend": str(blend), "out": str(out)}
    return run_bpy_script("owned_scenario.py", args, tmp, timeout=300, python=request.param)


def test_resume_is_refused_naming_the_other_owner(scenario: dict[str, Any]) -> None:
    assert "error" not in scenario, scenario.get("error")
    assert scenario["found_interrupted"]
    pid = scenario["server_pid"]
    refused = scenario["refused"]
    assert "The batch 'night' is owned by python3 -m renderplus.server" in refused
    assert f"(pid {pid} on " in refused and "cannot be resumed here" in refused
    assert not scenario["still_offered"]
    assert f"(pid {pid} on " in scenario["owned_elsewhere"]


def test_the_panel_says_which_render_plus_runs_the_batch(scenario: dict[str, Any]) -> None:
    panel = scenario["panel"]
    text = " ".join(panel["labels"])
    assert "The last batch runs in another Render+" in panel["labels"]
    assert "owned by python3 -m renderplus.server" in text and str(scenario["server_pid"]) in text
    assert "renderplus.batch_resume" in panel["operators"]


def test_resume_takes_the_batch_once_its_owner_is_killed(scenario: dict[str, Any]) -> None:
    assert scenario["taken"] == ["FINISHED"]
    assert scenario["running"]
    assert scenario["owner_pid"] == scenario["blender_pid"]
    assert scenario["cancelled"] and not scenario["claim_after_end"]


def test_the_copy_another_render_plus_renders_is_kept(scenario: dict[str, Any]) -> None:
    """The batch's saved copy was made by a Blender that is gone, but a live server renders it:
    the clean-up at start leaves it; cancelled here, it stays for a resume of its cancelled job
    (the next batch's start sweeps it: test_addon_copies)."""
    assert scenario["copy_kept_while_owned_elsewhere"]
    assert scenario["copy_after_cancel"]
