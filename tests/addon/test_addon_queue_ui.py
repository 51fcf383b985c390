"""The queue and the pause from the N-panel (bpy 5.0, and bpy 4.2 with $RENDERPLUS_EXTRA_BPY):
Render while a batch runs or is paused queues the next; the queue box and the batch's queued
jobs move, hold, continue, skip and remove; Pause (a menu) and Continue; PAUSED is drawn.
The real ``BatchService`` (enqueue, queue_view, pause, resume, move_job, ...) and Blender 3.4
render."""

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
    blend = blend_factory(extra_cameras=("Cam2",), samples=64, name="queue.blend")
    tmp = tmp_path_factory.mktemp("queue-ui")
    out = tmp / "renders"
    out.mkdir()
    args = {"zip": str(addon_zip), "blend": str(blend), "out": str(out)}
    return run_bpy_script("queue_ui_scenario.py", args, tmp, timeout=400, python=request.param)


def count(drawn: dict[str, Any], operator: str) -> int:
    return sum(1 for name in drawn["operators"] if name.partition(":")[0] == operator)


def text(drawn: dict[str, Any]) -> str:
    return "\n".join(drawn["labels"])


def test_render_while_a_batch_runs_offers_add_to_queue(scenario: dict[str, Any]) -> None:
    assert scenario["reached_running"]
    running = scenario["running"]
    assert "renderplus.batch_render:Add to Queue" in running["operators"]
    assert "RENDERPLUS_MT_pause" in running["menus"]
    assert "Up next in this batch (2)" in text(running)
    assert count(running, "renderplus.batch_job_enable") == 2  # skip, per queued job
    assert count(running, "renderplus.batch_job_move") == 4    # up and down, per queued job
    assert scenario["queue_after_add"] == [[1, 0], [2, 1]]


def test_the_queue_box_lists_moves_holds_and_removes(scenario: dict[str, Any]) -> None:
    queued = scenario["queued"]
    assert "Queue (2)" in text(queued)
    assert "renderplus.queue_hold:Hold" in queued["operators"]
    assert count(queued, "renderplus.queue_remove") == 2
    assert "1. queue · 3 jobs" in queued["labels"]
    assert not any(label.startswith("Copy: ") for label in queued["labels"])  # external jobs: none
    assert scenario["queue_after_move"] == [2, 1]
    assert "Queue (2, held)" in text(scenario["held"])
    assert "renderplus.queue_continue:Continue" in scenario["held"]["operators"]
    assert scenario["queue_after_remove"] == [2, 3]  # 1 removed; 3 was queued while paused


def test_the_batchs_queued_jobs_move_and_skip(scenario: dict[str, Any]) -> None:
    assert scenario["order_after_edits"] == [0, 2, 1]  # 2 moved up; 1 disabled goes last
    assert scenario["statuses_after_edits"] == ["RUNNING", "DISABLED", "QUEUED"]
    assert "no longer queued" in scenario["running_job_move"]  # the running job cannot move


def test_pause_now_then_continue(scenario: dict[str, Any]) -> None:
    assert scenario["reached_paused"] and scenario["paused_flag"]
    paused = scenario["paused"]
    assert "Paused (0/2)" in paused["labels"]  # nothing has finished yet; job 1 is skipped
    assert "renderplus.batch_continue:Continue" in paused["operators"]
    assert "renderplus.batch_render:Add to Queue" in paused["operators"]
    assert "renderplus.job_cancel:Job" not in paused["operators"]
    assert "renderplus.batch_cancel:Batch" in paused["operators"]
    assert scenario["job_statuses_paused"][0] == "QUEUED"  # back in the queue, frames kept
    assert "poll" in scenario["pause_while_paused"]  # Pause is not offered while paused
    assert scenario["reached_running_again"] and all(scenario["rows_linked_after_continue"])
    assert scenario["reached_cancelled"]
    assert scenario["queue_at_end"] == [[2, 0], [3, 1]]  # held: nothing started after the cancel
