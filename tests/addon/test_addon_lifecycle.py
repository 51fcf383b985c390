"""Disabling the add-on stops the server thread and any running batch and leaves nothing
registered; enabling it again brings everything back (twice, in real Blender: bpy 5.0)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, python_id, run_bpy_script
from tests.addon.test_addon_batch import free_port

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    blend = blend_factory(samples=64, name="lifecycle.blend")
    tmp = tmp_path_factory.mktemp("lifecycle")
    python = request.param
    out = tmp / "renders"
    out.mkdir()
    args = {"zip": str(addon_zip), "blend": str(blend), "out": str(out), "port": free_port()}
    return run_bpy_script("lifecycle_scenario.py", args, tmp, timeout=300, python=python)


def test_enabling_registers_the_add_on(scenario: dict[str, Any]) -> None:
    classes = scenario["classes_enabled"]
    assert "RENDERPLUS_PT_main" in classes and "RENDERPLUS_UL_jobs" in classes
    assert "RENDERPLUS_OT_batch_render" in classes and "RenderPlusJob" in classes
    assert "RenderPlusPreferences" in classes


def test_disable_during_a_batch_stops_it_and_leaves_nothing(scenario: dict[str, Any]) -> None:
    assert scenario["rendering"] and scenario["children_while_running"] > 0
    assert len(scenario["threads_while_running"]) > len(scenario["threads_before"])  # server + runner
    assert scenario["batch_status_after_disable"] == "CANCELLED"
    assert scenario["job_status_after_disable"] == "CANCELLED"
    left = scenario["after_disable_1"]
    assert left["classes"] == [] and left["operators"] == []
    assert not left["scene_prop"] and not left["wm_prop"]
    assert not left["timer"] and left["handlers"] == 0
    assert left["threads"] == scenario["threads_before"]
    assert left["children"] == []
    assert left["port_free"]


def test_enable_again_restores_everything(scenario: dict[str, Any]) -> None:
    assert scenario["classes_reenabled"] == scenario["classes_enabled"]
    assert len(scenario["jobs_after_reenable"]) == 1  # the scene kept its job list
    assert scenario["jobs_after_add"] == 2
    assert scenario["prefs_kept"][0] == "/usr/bin/blender"


def test_autostart_and_second_disable(scenario: dict[str, Any]) -> None:
    assert scenario["autostart_url"] and scenario["autostart_test"] == 200
    assert scenario["autostart_timer"]
    left = scenario["after_disable_2"]
    assert left["classes"] == [] and not left["scene_prop"] and not left["timer"]
    assert left["threads"] == scenario["threads_before"]
    assert left["port_free"] and left["children"] == []
    # the exit callback (a quit pauses the batch, then stops the server) comes and goes with it
    assert scenario["atexit_enabled"] == scenario["atexit_enabled_again"]
    exits = [name.rsplit(".", 2)[-2:] for name in scenario["atexit_enabled"]]
    assert exits == [["quit_lifecycle", "on_quit"]]
    assert left["atexit"] == []
