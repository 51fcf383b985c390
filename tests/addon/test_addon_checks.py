"""Issue 13 in the bpy wheel: the check before Render names jobs by name (deleted camera, scene,
world, layer; unwritable folder; end before start; an engine the binary lacks; a .blend too new
for it), a batch's frames and thumbnail, the list following the running job, a failure readable
in full, the dashboard address with its token, resuming an interrupted batch, and an unsaved
file that asks where renders go."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, fake_blender, python_id, run_bpy_script
from tests.addon.test_addon_batch import free_port

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]


def fake_blender_in(folder: Path, version: str) -> Path:
    return fake_blender(folder / f"blender-{version}", version)


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    blend = blend_factory(extra_cameras=("Cam2",), name="checks.blend")
    tmp = tmp_path_factory.mktemp("checks")
    out = tmp / "renders"
    out.mkdir()
    args = {"zip": str(addon_zip), "blend": str(blend), "out": str(out), "port": free_port(),
            "fake": str(fake_blender_in(tmp, "3.4.1")), "fake50": str(fake_blender_in(tmp, "5.0.1"))}
    return run_bpy_script("checks_scenario.py", args, tmp, timeout=400, python=request.param)


def test_the_binary_is_asked_in_a_thread_and_answers_its_engines(scenario: dict[str, Any]) -> None:
    assert scenario["first_answer"] is None  # "checking..." while the thread asks
    assert scenario["binary"] == ["3.4.1", ["BLENDER_EEVEE", "BLENDER_WORKBENCH", "CYCLES"]]


def test_a_blend_too_new_for_the_binary_is_refused_naming_each_job(scenario: dict[str, Any]) -> None:
    message = scenario["too_new"]
    for name in scenario["names"]:
        assert f"Job {name!r}: the .blend is saved by Blender " in message
    assert "newer than the Blender that renders it (3.4.1" in message


@pytest.mark.parametrize(("case", "expected"), [
    ("engine", "render engine 'BLENDER_EEVEE_NEXT' is not available in Blender 5.0.1"),
    ("camera", "camera 'Cam2' is not in scene 'Scene' (deleted or renamed?); cameras: "),
    ("world", "world 'Gone World' does not exist"),
    ("layer", "view layer 'Gone Layer' is not in scene 'Scene'"),
    ("scene", "scene 'Gone Scene' does not exist"),
    ("frames", "the end frame (3) is before the start frame (9)"),
    ("folder", "/renders cannot be created: "),
])
def test_each_broken_job_is_refused_by_its_name(scenario: dict[str, Any], case: str, expected: str) -> None:
    message = scenario["cases"][case]
    assert message.startswith("Error: The batch cannot start: 1 problem(s)"), message
    assert f"Job {scenario['names'][0]!r}: " in message and expected in message
    assert "jobs[" not in message
    assert not scenario["batch_after_checks"]


def test_an_engine_renamed_between_versions_says_which_id_to_use(scenario: dict[str, Any]) -> None:
    assert "use 'BLENDER_EEVEE', the same engine's id in Blender 5.0.1" in scenario["cases"]["engine"]


def test_a_batch_shows_where_frames_went_with_a_thumbnail(scenario: dict[str, Any]) -> None:
    assert scenario["render"] == "started" and scenario["finished"]
    _name, status, count, first, last, folder = scenario["states"][0]
    assert status == "FINISHED" and count == 3
    assert first.endswith("Cam2_0001.png") and last.endswith("Cam2_0003.png")
    assert Path(last).parent == Path(folder) and Path(last).is_file()
    assert scenario["previews"] == 1 and scenario["icon_again"] == scenario["icon"]  # loaded once
    [(width, height)] = scenario["read_at_once"]  # a 3-frame PNG of the test scene, read at once
    assert width > 0 and height > 0


def test_a_large_frame_is_never_read_in_the_main_thread_while_its_job_runs(
        scenario: dict[str, Any]) -> None:
    # Blender's own preview job would redraw the whole window (the 3D viewport too) when it
    # ends; reading 3 megapixels at once would stall the UI: a running job shows no thumbnail.
    assert scenario["big_running"] == 0 and scenario["previews_after_big"] == scenario["previews"]
    assert scenario["big_waits"]  # the panel says its thumbnail comes when the job has finished
    # A finished job's last frame does not change: Blender's preview job reads it, once.
    assert scenario["previews_after_deferred"] == scenario["previews"] + 1
    assert scenario["progress_shown"] == 100.0


def test_the_list_follows_the_running_job(scenario: dict[str, Any]) -> None:
    # The last job was selected before Render; each job was selected when it started.
    assert scenario["selected"] == [0, 1, 2]


def test_a_failure_is_readable_in_full(scenario: dict[str, Any]) -> None:
    message = scenario["failed_message"]
    assert "see the log for the full output of Blender" in message  # the end of a long line
    assert scenario["tooltip"] == message
    assert scenario["states"][2][1] == "FAILED"


def test_the_dashboard_address_carries_the_token_unless_switched_off(scenario: dict[str, Any]) -> None:
    token = scenario["token"]
    assert token and scenario["dashboard"].endswith(f"/#token={token}")
    assert scenario["dashboard"].startswith("http://127.0.0.1:")
    assert scenario["clipboard"] in (scenario["dashboard"], "")  # background Blender may have no clipboard
    assert scenario["token_no_token"] is None
    assert "#token" not in scenario["dashboard_no_token"]


def test_the_in_process_server_writes_its_token_file_and_removes_it_on_stop(
        scenario: dict[str, Any]) -> None:
    assert scenario["token_file_mode"] == "0o600"
    assert scenario["token_file_token"] == scenario["token"]
    assert scenario["token_file_after_stop"] is False


def test_an_interrupted_batch_is_offered_and_resumed(scenario: dict[str, Any]) -> None:
    assert scenario["found_interrupted"] and scenario["resume_poll"]
    assert "The interrupted batch's file is gone: /x.blend" in scenario["resume_error"]
    assert scenario["resume_calls"] == ["resume", "resume"]
    assert scenario["running_after_resume"] and not scenario["interrupted_after"]


def test_an_unsaved_file_asks_where_renders_go(scenario: dict[str, Any]) -> None:
    assert scenario["unsaved_output"].startswith("//")
    assert "This file is not saved" in scenario["unsaved"] and "choose a render folder" in scenario["unsaved"]
    assert scenario["unsaved_with_folder"] == "started"
    assert scenario["chosen_files"]  # the frame went into the folder chosen, not the config folder


def test_a_resumed_batch_shows_its_jobs_in_the_scenes_rows(scenario: dict[str, Any]) -> None:
    # a batch an earlier session started: linked to the scene's jobs by their names, so each
    # row has its status and time, and the Job panel its "Last batch" box (why a job failed)
    rows, states = scenario["resumed_rows"], scenario["resumed_states"]
    assert rows == list(range(len(states))) and len(rows) >= 2, (rows, states)
    assert all(states), states
