"""A copy of the .blend per batch (Blender 3.4, legacy add-on): three batches made from one
file with an edit before each render the file as it was for each, even while queued behind a
running batch; each copy goes once its batch has ended for good (nothing left to resume) or a
newer batch started, and left-overs of ended batches at start. The service, its queue, the
copies and the renders are real."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import run_blender_script

pytestmark = [pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module")
def scenario(addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    blend = blend_factory(extra_cameras=("Cam2",), name="shots.blend")
    tmp = tmp_path_factory.mktemp("copies")
    addons = tmp / "scripts" / "addons"
    with zipfile.ZipFile(addon_zip) as archive:
        archive.extractall(addons)
    out = tmp / "renders"
    out.mkdir()
    env = {"BLENDER_USER_SCRIPTS": str(tmp / "scripts"), "BLENDER_USER_CONFIG": str(tmp / "config"),
           "XDG_STATE_HOME": str(tmp / "state-home")}
    args = {"blend": str(blend), "out": str(out), "addons": str(addons), "config": str(tmp / "config")}
    before = blend.read_bytes()
    result = run_blender_script("copies_scenario.py", args, tmp, env=env, timeout=500)
    result["file_unchanged"] = blend.read_bytes() == before
    return result


def test_left_over_copies_of_ended_batches_go_at_start(scenario: dict[str, Any]) -> None:
    assert len(scenario["strays_before"]) == 2
    assert scenario["after_enable"] == []


def test_every_batch_gets_a_copy_of_its_own(scenario: dict[str, Any]) -> None:
    made = scenario["made"]
    assert len(made) == 3 and len(set(made)) == 3
    assert all(name.startswith("shots.batch-") for name in made)
    assert [result for result in scenario["render_results"]] == [["FINISHED"]] * 3
    assert len(scenario["queued_after_renders"]) == 2  # the 2nd and 3rd waited in the queue
    # while the first batch rendered, the queued batches' copies were there beside its own
    assert set(made) <= set(scenario["seen_copies"][2])


def test_each_batch_renders_the_file_as_it_was_when_it_was_made(scenario: dict[str, Any]) -> None:
    assert scenario["finished"], scenario["timeline"]
    sizes = scenario["sizes"]
    assert sizes["b1"] == {"Cam2_0001.png": [64, 48], "Camera_0001.png": [64, 48]}
    assert sizes["b2"] == {"Cam2_0001.png": [32, 24], "Camera_0001.png": [32, 24]}
    assert sizes["b3"] == {"Cam2_0001.png": [16, 12], "Camera_0001.png": [16, 12]}
    assert scenario["size_in_memory"] == [16, 12]  # the edits stayed in the open file
    assert scenario["file_unchanged"]


def test_a_copy_goes_when_its_batch_ends(scenario: dict[str, Any]) -> None:
    first, _second, third = scenario["made"]
    listings = [names for _status, names in scenario["timeline"]]
    # the first batch's copy was removed while the third still waited for its turn
    assert any(first not in names and third in names for names in listings)
    assert scenario["left_at_end"] == []
    assert scenario["children_after"] == []


def test_a_paused_then_cancelled_batch_keeps_its_copy_until_the_next_batch(
        scenario: dict[str, Any]) -> None:
    assert scenario["reached_paused"] and scenario["copy_while_paused"]
    assert scenario["reached_cancelled"] and scenario["copy_after_cancel"]  # resumable
    assert not scenario["cancelled_copy_after_next_batch"]


def test_a_failed_job_resumes_from_its_batchs_copy(scenario: dict[str, Any]) -> None:
    """Even after a restart of the add-on. Before: the copy went when the batch ended, and the
    resume failed for a missing file."""
    assert scenario["ended_with_failure"]
    assert scenario["job_statuses_failed"] == ["FAILED", "FINISHED"]
    assert len(scenario["renders_after_failure"]) == 1  # the other job's frame
    assert scenario["copy_after_failure"] and scenario["copy_after_restart"]
    assert scenario["resumed_from"] == [scenario["failed_copy"]]
    assert scenario["resume_finished"]
    assert scenario["job_statuses_resumed"] == ["FINISHED", "FINISHED"]
    assert scenario["renders_after_resume"] == ["Cam2_0001.png", "Camera_0001.png"]
    assert not scenario["copy_after_resume"]  # every job finished: nothing left to retry
