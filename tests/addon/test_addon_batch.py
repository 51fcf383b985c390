"""A real batch from the installed add-on (bpy 5.0), the in-process server polled over HTTP, and
the pump copying the batch into the UI properties until FINISHED."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, python_id, run_bpy_script
from tests.ports import free_port

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    blend = blend_factory(extra_cameras=("Cam2",), frames=2, name="batch.blend")
    tmp = tmp_path_factory.mktemp("batch")
    python = request.param
    out = tmp / "renders"
    out.mkdir()
    args = {"zip": str(addon_zip), "blend": str(blend), "out": str(out), "port": free_port()}
    result = run_bpy_script("batch_scenario.py", args, tmp, timeout=400, python=python)
    result["port"] = args["port"]
    return result


def test_the_batch_finishes_and_every_job_shows_its_result(scenario: dict[str, Any]) -> None:
    assert scenario["finished"], scenario["run"]
    states = scenario["states"]
    jobs = scenario["jobs"]
    assert [s["name"] for s in states] == [j["name"] for j in jobs]
    assert [s["status"] for s in states] == ["FINISHED", "FINISHED", "FINISHED", "DISABLED"]
    for state in states[:3]:
        assert state["progress"] == pytest.approx(100.0)
        assert state["progress_prop"] == pytest.approx(100.0)  # what the slider shows in 3.x
        assert state["rendertime"] > 0 and state["started"] and state["finished"]
        assert state["engine"] == "CYCLES" and state["messages"] == ""
    assert [s["frames_done"] for s in states[:3]] == [1, 1, 2]
    assert [s["frames_total"] for s in states[:3]] == [1, 1, 2]
    assert states[3]["progress"] == 0 and states[3]["rendertime"] < 0


def test_batch_state_times_and_stats(scenario: dict[str, Any]) -> None:
    run = scenario["run"]
    assert run["status"] == "FINISHED" and run["progress"] == pytest.approx(100.0)
    assert run["rendertime"] > 0 and run["started"] and run["finished"]
    assert run["failed"] == 0
    times = [s["rendertime"] for s in scenario["states"][:3]]
    assert run["average_time"] == pytest.approx(sum(times) / 3, rel=1e-3)
    assert run["fastest"] == [times.index(min(times)), pytest.approx(min(times), rel=1e-3)]
    assert run["slowest"] == [times.index(max(times)), pytest.approx(max(times), rel=1e-3)]
    assert run["copy_path"] == ""  # every job is external: no copy of this file was needed
    assert run["scene"] == "Scene"


def test_the_ui_saw_the_batch_running(scenario: dict[str, Any]) -> None:
    seen = scenario["seen"]
    assert "RUNNING" in seen["batch_status"] and "RUNNING" in seen["job_status"]
    assert "QUEUED" in seen["job_status"]
    assert seen["progress"] and all(0 <= p <= 100 for p in seen["progress"])
    # while a job ran, the batch's current_job pointed at it (the highlighted row)
    assert {current for current, job_id, _ in seen["highlight"]} <= {0, 1, 2}
    assert all(current == job_id for current, job_id, _ in seen["highlight"])


def test_scene_jobs_find_their_state_by_uid(scenario: dict[str, Any]) -> None:
    assert scenario["ui_states"] == ["FINISHED", "FINISHED", "FINISHED", "DISABLED"]
    assert [s["uid"] for s in scenario["states"]] == [j["uid"] for j in scenario["jobs"]]


def test_renders_were_written(scenario: dict[str, Any]) -> None:
    uids = [j["uid"] for j in scenario["jobs"]]
    expected = [f"{uids[0]}_0001.png", f"{uids[1]}_0001.png", f"{uids[2]}_0001.png", f"{uids[2]}_0002.png"]
    assert scenario["outputs"] == sorted(expected)
    assert scenario["file_untouched"]


def test_the_in_process_server_answers_and_stops(scenario: dict[str, Any]) -> None:
    assert scenario["server_url"] == f"http://127.0.0.1:{scenario['port']}"
    code, info = scenario["test_route"]
    assert code == 200 and info["running"] is False
    assert scenario["poll_before"] == 409  # no batch has run yet
    assert scenario["seen"]["http_running"][:2] == [200, "RUNNING"]
    code, final = scenario["http_final"]
    assert code == 200 and final["status"] == "FINISHED"
    assert [j["status"] for j in final["jobs"]] == [s["status"] for s in scenario["states"]]
    assert scenario["next_interval_after"] is not None  # the server still runs: keep pumping
    assert scenario["server_after_stop"] is None and scenario["port_free_after_stop"]
    assert scenario["interval_after_stop"] is None  # nothing left to watch: the timer ends


def test_stopping_the_server_never_blocks_blenders_main_thread(scenario: dict[str, Any]) -> None:
    # A client that never finishes its request held the old stop for its 3 s grace.
    assert scenario["slow_client_held"]  # the stop below really met a request thread in its head
    assert scenario["stop_seconds"] < 0.1, scenario["stop_seconds"]
    assert scenario["stopping_after_stop"]  # the panel says "stopping" until the port is free
    assert scenario["interval_while_stopping"] is not None  # the pump keeps watching the stop
    assert scenario["stop_noticed"], scenario["stop_noticed_seconds"]


def test_a_batch_posted_over_http_shows_in_the_panel(scenario: dict[str, Any]) -> None:
    assert (scenario["http_recipe"], scenario["http_start"]) == (200, 200)
    assert scenario["http_batch_finished"]
    run = scenario["http_run"]
    assert (run["batch_name"], run["scene"], run["progress"]) == ("from curl", "", pytest.approx(100.0))
    assert run["jobs"] == [["remote", "FINISHED", 0]]
    # it is not this scene's batch: the scene's jobs no longer claim a state
    assert scenario["ui_states_after_http"] == [None, None, None, None]


def test_no_thread_or_process_is_left(scenario: dict[str, Any]) -> None:
    assert scenario["threads_after"] == scenario["threads_before"]
    assert scenario["children_after"] == []
