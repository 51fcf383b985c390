"""Parallel slots with the real Blender: overlapping jobs in recipe order, cancel of one
running job, the slot's threads, a GPU slot asked for a GPU this machine lacks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.runner import Batch, RunOptions
from renderplus.batch.slots import memory_wait_reason, plan_slot, slot_count
from tests.batch.conftest import make_recipe
from tests.procs import pids_in_group
from tests.waiting import wait_for

pytestmark = pytest.mark.blender
Factory = Callable[..., Path]


def known(moment: float | None) -> float:
    """A process time the view must have by now (every job ran and ended)."""
    assert moment is not None, "a finished job lacks a process start or exit time"
    return moment


@pytest.mark.slow
def test_two_slots_render_two_jobs_at_once_in_order(tmp_path: Path, blend_factory: Factory) -> None:
    blend = blend_factory(size=(160, 120), samples=64)
    recipe = make_recipe([{"blend_file": str(blend), "output": str(tmp_path / f"j{i}_")}
                          for i in range(4)], settings={"parallel": 2})
    batch = Batch(recipe)
    seen_running: set[tuple[int, ...]] = set()
    batch.start()
    while not batch.wait(0.05):
        seen_running.add(batch.view().running_jobs)
    view = batch.view()
    assert [job.status for job in view.jobs] == ["FINISHED"] * 4, [j.messages for j in view.jobs]
    assert any(len(running) == 2 for running in seen_running)  # two at the same time
    starts = [known(job.process.started) for job in view.jobs]
    assert starts == sorted(starts)  # started in recipe order
    spans = [(known(job.process.started), known(job.process.exited)) for job in view.jobs]
    assert spans[1][0] < spans[0][1], "job 1 should start before job 0 has ended"
    for job_id in range(4):  # each slot got half the cores
        handle = batch.handle(job_id)
        assert handle is not None and handle.argv[handle.argv.index("-t") + 1] == "1"
    assert view.stats.average_time is not None


@pytest.mark.slow
def test_cancel_one_running_job_of_two(tmp_path: Path, blend_factory: Factory) -> None:
    slow = blend_factory(size=(320, 240), samples=4000, frames=3)
    quick = blend_factory()
    recipe = make_recipe([
        {"blend_file": str(slow), "output": str(tmp_path / "slow"), "animated": True,
         "frame_start": 1, "frame_end": 3},
        {"blend_file": str(slow), "output": str(tmp_path / "slow2")},
        {"blend_file": str(quick), "output": str(tmp_path / "quick")},
    ], settings={"parallel": 2})
    batch = Batch(recipe, RunOptions(kill_grace=2.0))
    batch.start()
    wait_for(lambda: batch.view().running_jobs == (0, 1))
    handle = batch.handle(0)
    assert handle is not None and handle.pgid is not None
    assert batch.view().current_job == 0
    assert batch.cancel_job(0)
    wait_for(lambda: batch.view().job(0).status == "CANCELLED", timeout=20)
    assert not pids_in_group(handle.pgid)
    assert batch.cancel_job(0) is False  # it has ended
    wait_for(lambda: batch.view().job(2).status == "FINISHED", timeout=120)
    batch.cancel()
    assert batch.wait(30)
    statuses = [job.status for job in batch.view().jobs]
    assert statuses == ["CANCELLED", "CANCELLED", "FINISHED"]
    for job_id in range(3):
        h = batch.handle(job_id)
        assert h is not None and h.pgid is not None and not pids_in_group(h.pgid)


def test_a_queued_job_can_be_cancelled_before_it_starts(tmp_path: Path, blend_factory: Factory) -> None:
    recipe = make_recipe([{"blend_file": str(blend_factory()), "output": str(tmp_path / f"q{i}")}
                          for i in range(3)])
    batch = Batch(recipe)
    batch.start()
    assert batch.cancel_job(2)
    assert batch.wait(120)
    assert [job.status for job in batch.view().jobs] == ["FINISHED", "FINISHED", "CANCELLED"]
    assert batch.view().job(2).messages == ("Cancelled before it started",)
    assert batch.handle(2) is None  # never started


@pytest.mark.slow
def test_a_gpu_slot_without_that_gpu_fails_naming_it(tmp_path: Path, blend_factory: Factory) -> None:
    """On this CPU-only machine GPU 0 does not exist: the job says so and lists what Blender sees."""
    recipe = make_recipe([{"blend_file": str(blend_factory()), "output": str(tmp_path / "g"),
                           "cycles": {"samples": 4, "device": "CUDA"}}] * 1,
                         settings={"parallel": 2})
    batch = Batch(recipe)
    batch.run()
    job = batch.view().job(0)
    assert job.status == "FAILED"
    assert "GPU 0 (CUDA) not found: the GPUs Blender sees are: none" in job.messages[0]


def test_slot_plans_and_auto() -> None:
    recipe = make_recipe([{"blend_file": "a.blend"}], settings={"parallel": "auto"})
    assert slot_count(recipe, cores=2) == 2 and slot_count(recipe, cores=1) == 1
    gpu = make_recipe([{"blend_file": "a.blend", "cycles": {"samples": 0, "device": "OPTIX"}}],
                      settings={"parallel": "auto"})
    assert slot_count(gpu, gpu_count=3) == 3
    job = make_recipe([{"blend_file": "a.blend", "engine": "BLENDER_EEVEE"}]).jobs[0]
    plan = plan_slot(job, 1, 2, cores=8)
    assert plan.threads == 4 and plan.env == {"LP_NUM_THREADS": "4"} and plan.gpu_index is None
    assert plan_slot(job, 0, 1).threads is None  # one slot: Render+ 1.0's command line
    assert plan_slot(gpu.jobs[0], 1, 2).gpu_index == 1


def test_memory_gate() -> None:
    assert memory_wait_reason(4000, 512, [], 100) is None  # an idle batch never waits
    assert memory_wait_reason(4000, 512, [0], 8000) is None
    reason = memory_wait_reason(4000, 512, [0], 1000)
    assert reason == "only 1000 MB of memory free and it needed 4000 MB last time"
    assert "floor is 512 MB" in (memory_wait_reason(0, 512, [0], 100) or "")


def test_a_job_waits_for_memory_beside_others_but_never_alone(tmp_path: Path,
                                                              blend_factory: Factory) -> None:
    recipe = make_recipe([{"blend_file": str(blend_factory()), "output": str(tmp_path / f"m{i}")}
                          for i in range(2)], settings={"parallel": 2})
    batch = Batch(recipe, RunOptions(memory_floor_mb=10.0 ** 9))  # never "enough" beside a job
    assert batch.run() == "FINISHED"
    view = batch.view()
    assert [job.status for job in view.jobs] == ["FINISHED", "FINISHED"]
    first, second = (job.process for job in view.jobs)
    assert first.exited is not None and second.started is not None
    assert second.started >= first.exited  # one after the other
    assert any(m.startswith("Job 1 (job1) waits for a running job to end: only") for m in view.messages)
