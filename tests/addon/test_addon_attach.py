"""A Blender opened while a standalone Render+ server of the same user runs attaches to it
(bpy 5.0, and 4.2 when given): no batch slot, store or port of its own; Render, Pause,
Continue, Add to Queue and Cancel act on the server's batch and queue; a second Blender attaches
too, and once the server ends the add-on serves itself again."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, python_id, run_bpy_script
from tests.server.helpers import ServerProcess

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    blend = blend_factory(extra_cameras=("Cam2",), frames=3, samples=512, size=(200, 150),
                          name="attach.blend")  # frames of seconds: time to pause one
    tmp = tmp_path_factory.mktemp("attach")
    out = tmp / "renders"
    out.mkdir()
    env = {"XDG_STATE_HOME": str(tmp / "state-home"), "XDG_CONFIG_HOME": str(tmp / "config-home")}
    server = ServerProcess(work_dir=tmp / "work", env=env)
    try:
        record = tmp / "config-home" / "renderplus" / "servers" / f"{server.port}.json"
        saved = json.loads(record.read_text())
        args = {"zip": str(addon_zip), "blend": str(blend), "out": str(out), "port": server.port,
                "token": saved["token"], "role": "first"}
        first = run_bpy_script("attach_scenario.py", args, tmp, timeout=500, python=request.param)
        second = run_bpy_script("attach_scenario.py", {**args, "role": "second"}, tmp, timeout=200,
                                python=request.param)
        code, said = server.finish(timeout=60)   # the second Blender stopped it
    finally:
        server.close()
    return {"first": first, "second": second, "server_pid": saved["pid"], "port": server.port,
            "server_exit": code, "server_said": said, "name": str(blend)}


@pytest.mark.parametrize("role", ["first", "second"])
def test_a_blender_attaches_instead_of_serving_itself(scenario: dict[str, Any], role: str) -> None:
    seen = scenario[role]
    assert seen["attached_to"] == (f"Attached to the Render+ server at http://127.0.0.1:{scenario['port']} "
                                   f"(pid {scenario['server_pid']})")
    assert seen["service"] == "RemoteService" and seen["store"]
    assert seen["open_in_state"] == []          # the server's store is not opened here
    assert seen["listening"] == [] and seen["listening_after_start"] == []   # no port of its own
    assert seen["attached_to"] in seen["server_start"] and seen["server_url_after_start"] is None


def test_render_sends_the_batch_and_the_pump_shows_it(scenario: dict[str, Any]) -> None:
    seen = scenario["first"]
    assert seen["running_seen"] and seen["remote_poll_running"] == "RUNNING" and seen["busy"]
    assert [uid for _, uid in seen["rows"]] == seen["uids"]   # rows linked to the scene's jobs
    assert seen["scene"] == "Scene"


def test_the_panels_say_where_the_batch_runs(scenario: dict[str, Any]) -> None:
    seen = scenario["first"]
    labels, operators = seen["panel"]["labels"], seen["panel"]["operators"]
    assert labels.count(seen["attached_to"]) == 2   # the sidebar's server panel and the preferences
    assert not [name for name in operators if name.startswith(("renderplus.server_start",
                                                               "renderplus.server_stop"))]
    for offered in ("renderplus.batch_cancel:Batch", "renderplus.job_cancel:Job",
                    "renderplus.batch_render:Add to Queue", "renderplus.batch_pause:Now"):
        assert offered in operators   # the server's batch runs: the panel drives it


def test_pause_continue_and_the_queue_act_on_the_server(scenario: dict[str, Any]) -> None:
    seen = scenario["first"]
    assert seen["paused_seen"] and seen["remote_after_pause"] == "PAUSED" and seen["paused_flag"]
    assert seen["remote_queue"] == [200, [[scenario["name"], 1]]]   # the recipe's name: the .blend
    assert seen["panel_queue"] == [scenario["name"]]
    assert seen["continued_seen"] and seen["first_finished"]
    assert seen["queue_emptied"]   # the queued batch started: the panel's queue is empty
    assert [row[2] for row in seen["second_rows"]] == ["RUNNING", "DISABLED"]   # the queued batch


def test_cancel_acts_on_the_server_and_nothing_of_its_own_opens(scenario: dict[str, Any]) -> None:
    seen = scenario["first"]
    assert seen["cancelled_seen"] and seen["remote_after_cancel"] == "CANCELLED"
    assert seen["history"] == ["CANCELLED", "FINISHED"]   # the first batch finished in the server
    assert {"1_0001.png", "1_0002.png", "1_0003.png", "2_0001.png"} <= set(seen["outputs"])
    assert seen["open_in_state_after"] == [] and seen["listening_after"] == []
    assert seen["still_attached"] == seen["attached_to"]


def test_a_quit_leaves_the_servers_batch_rendering(scenario: dict[str, Any]) -> None:
    assert scenario["first"]["after_quit"] == ["RUNNING", True]


def test_a_second_blender_shows_the_servers_batch_and_detaches_when_it_ends(
        scenario: dict[str, Any]) -> None:
    seen = scenario["second"]
    assert seen["shown"] and seen["shown_name"] == scenario["name"]
    assert [status for _, status in seen["shown_rows"]] == ["CANCELLED", "DISABLED"]
    assert seen["gone_seen"] and seen["interval_after_gone"] is None
    assert "has ended: this Blender renders its next batch itself" in seen["_stderr"]
    assert seen["after_gone"] == "BatchService" and seen["own_store"]
    assert seen["attached_after_gone"] is None
    assert scenario["server_exit"] == 0, scenario["server_said"]
