"""The panels' draw code in every state of a batch (bpy 5.0): it runs without error, and uses
only properties, operators, menus and icons that exist in the running Blender."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, python_id, run_bpy_script
from tests.addon.test_addon_batch import free_port

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]

PANELS = ["RENDERPLUS_PT_main", "RENDERPLUS_PT_job", "RENDERPLUS_PT_settings", "RENDERPLUS_PT_schedule",
          "RENDERPLUS_PT_batch_hooks",
          "RENDERPLUS_PT_notifications", "RENDERPLUS_PT_power", "RENDERPLUS_PT_server"]


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    blend = blend_factory(extra_cameras=("Cam2",), samples=64, name="ui.blend")
    tmp = tmp_path_factory.mktemp("ui")
    out = tmp / "renders"
    out.mkdir()
    args = {"zip": str(addon_zip), "blend": str(blend), "out": str(out), "port": free_port()}
    return run_bpy_script("ui_scenario.py", args, tmp, timeout=400, python=request.param)


def labels(state: dict[str, Any]) -> str:
    return "\n".join(state["labels"])


def test_every_panel_draws_without_jobs(scenario: dict[str, Any]) -> None:
    empty = scenario["empty"]
    assert set(PANELS) <= set(empty["drawn"])
    assert "RenderPlusSettings.jobs" not in empty["props"]  # the list is a template, not a prop
    assert empty["lists"] == ["RENDERPLUS_UL_jobs"]
    assert "Add a job to edit it here" in labels(empty)
    assert "renderplus.batch_render" in empty["operators"]


def test_every_optional_field_is_drawn_when_switched_on(scenario: dict[str, Any]) -> None:
    detailed = scenario["detailed"]
    for prop in ("RenderPlusJob.engine_other", "RenderPlusJob.section_height", "RenderPlusJob.size",
                 "RenderPlusJob.frame_end", "RenderPlusJob.filepath", "RenderPlusOverride.value",
                 "RenderPlusHook.cmd", "RenderPlusSettings.global_percentage",
                 "RenderPlusSettings.global_size", "RenderPlusSettings.rss_path",
                 "RenderPlusSettings.sound_volume", "RenderPlusSettings.mail_server",
                 "RenderPlusSettings.notify_desktop_job_failures", "RenderPlusSettings.poweroff_action",
                 "RenderPlusSettings.webhook_preset", "RenderPlusSettings.webhook_job_failed",
                 "RenderPlusPreferences.webhook_url"):
        assert prop in detailed["props"], prop
    assert "Password: in the add-on preferences" in labels(detailed)
    assert "RenderPlusJob.cycles_samples" not in detailed["props"]  # engine is LUXCORE, not Cycles
    assert "RENDERPLUS_MT_quick_batch" in detailed["menus"]


def test_a_running_batch_shows_progress_and_cancel_buttons(scenario: dict[str, Any]) -> None:
    assert scenario["reached_running"]
    running = scenario["running"]
    text = labels(running)
    assert "Rendering Cam2 (1/3)" in text
    assert "Renders a saved copy:" not in text  # external jobs: no copy was needed
    assert "Every job renders its own external file" in text
    assert "renderplus.job_cancel:Job" in running["operators"]
    assert "renderplus.batch_cancel:Batch" in running["operators"]
    assert "renderplus.batch_render" not in running["operators"]  # no "Render Batch" while one runs
    assert "renderplus.batch_render:Add to Queue" in running["operators"]
    bars = running["progress"]  # UILayout.progress() (4.0+; 3.x draws a slider instead)
    assert any(b.startswith("Batch") for b in bars) and any(b.startswith("Job (frame") for b in bars)
    # the thumbnail slots (the running box's, the Job panel's), kept empty until a frame is written
    assert running["icons"] == [0, 0]


def test_cancelled_and_finished_batches_show_their_results(scenario: dict[str, Any]) -> None:
    assert scenario["reached_cancelled"] and scenario["reached_finished"]
    assert "Cancelled at" in labels(scenario["cancelled"])
    finished = labels(scenario["finished"])
    assert "Finished at" in finished and "Average job:" in finished
    assert "Fastest: " in finished and "Slowest: " in finished
    assert "renderplus.batch_render" in scenario["finished"]["operators"]
    assert "Batch server running at http://127.0.0.1:" in finished
    assert scenario["slow_client_held"]
    assert "Batch server stopping..." in labels(scenario["stopping"])
    assert "Stopping..." in labels(scenario["stopping"])  # the sidebar's server panel
    starts = [op for op in scenario["stopping"]["operators"] if op.startswith("renderplus.server_start")]
    assert starts == []  # no start button while the old server still holds the port
    assert scenario["stop_noticed"]
    assert "Batch server stopped" in labels(scenario["stopped"])
    assert "renderplus.server_start:Start Server" in scenario["stopped"]["operators"]
