"""When things render, from the N-panel (bpy 5.0, and bpy 4.2 with $RENDERPLUS_EXTRA_BPY): the
"When to Render" fields and their meaning, a refused malformed window, the recipe round trip,
and estimates from a real first batch (Blender 3.4) under Render, for a WAITING batch, its
job and the queue."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, python_id, run_bpy_script

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("schedule-ui")
    blend = tmp / "schedule.blend"   # a path of this run's own: its history starts empty
    shutil.copy(blend_factory(name="schedule-ui.blend"), blend)
    out = tmp / "renders"
    out.mkdir()
    args = {"zip": str(addon_zip), "blend": str(blend), "out": str(out),
            "export": str(tmp / "recipe.json")}
    return run_bpy_script("schedule_ui_scenario.py", args, tmp, timeout=400, python=request.param)


def test_the_fields_say_what_they_mean_and_a_bad_time_is_refused(scenario: dict[str, Any]) -> None:
    assert "From: '25:00' is not a time of day (HH:MM)" in scenario["bad_window_text"]
    assert "settings.window.start" in scenario["bad_window_render"]
    assert "Renders 22:00-06:00 each day (ends the next morning)" in scenario["fields_text"]
    assert "Render waits until today 23:59" in scenario["fields_text"]   # still ahead, unless
    # the test runs in the minute 23:59 itself, when parse_start_at says "today" too (now counts)


def test_the_window_and_start_time_survive_export_and_import(scenario: dict[str, Any]) -> None:
    assert scenario["imported"] == [True, "22:00", "06:00", True, "23:59"]


def test_render_shows_the_estimate_once_something_similar_rendered(scenario: dict[str, Any]) -> None:
    assert "No estimate yet: nothing similar has rendered" in scenario["before_history"]
    assert scenario["first_finished"] and scenario["first_job_status"] == "FINISHED"
    after = scenario["after_history"]
    assert "of rendering, done about " in after and "(based on 1 similar run)" in after


def test_a_waiting_batch_says_when_it_starts_and_what_its_job_will_take(scenario: dict[str, Any]) -> None:
    assert scenario["reached_waiting"]
    status, runs, starts_at = scenario["waiting_job"]
    assert (status, runs, starts_at) == ("QUEUED", 1, scenario["start_at"])
    text, operators = scenario["waiting_text"], scenario["waiting"]["operators"]
    assert "Waiting (0/1)" in text and f"Starts at {scenario['start_at']}" in text
    assert "Then about " in text and "(based on 1 similar run)" in text   # the job's estimate
    assert "renderplus.batch_cancel:Batch" in operators
    assert "renderplus.job_cancel:Job" not in operators and "RENDERPLUS_MT_pause" not in \
        scenario["waiting"]["menus"]


def test_the_queue_shows_each_batchs_times_and_its_end(scenario: dict[str, Any]) -> None:
    assert scenario["queue"] == [[True, 1]] and scenario["queue_end_known"]
    text = scenario["queued_text"]
    assert "About " in text and " to " in text
    assert "Everything done about " in text
    assert scenario["reached_cancelled"]
