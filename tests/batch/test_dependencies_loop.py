"""Jobs that wait for others in the job loop, without Blender (a stand-in executor whose jobs run
until the test lets them end): the head of the order waits while the next ready job starts, a
failed, cancelled or disabled dependency fails the waiting job, and the edits (move, skip,
enable, add), a pause and the poll's ``order`` keep those rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import Batch
from renderplus.batch.view import BatchStatus, JobStatus
from tests.batch.conftest import make_recipe
from tests.batch.edits_helpers import HeldExecutor, job
from tests.waiting import wait_for


@pytest.fixture
def blend(tmp_path: Path) -> Path:
    path = tmp_path / "scene.blend"
    path.write_bytes(b"BLENDER-v304")   # the stand-in executor never opens it
    return path


def batch_of(tmp_path: Path, blend: Path, afters: list[list[int]], slots: int = 1,
             keys: dict[int, dict[str, Any]] | None = None) -> tuple[Batch, HeldExecutor]:
    """Jobs ``j0``, ``j1``... waiting for ``afters``; ``keys``: more keys of some jobs."""
    executor = HeldExecutor(tmp_path, slots)
    recipe = make_recipe([job(blend, tmp_path, f"j{i}", after=after, **(keys or {}).get(i, {}))
                          for i, after in enumerate(afters)])
    return Batch(recipe, executor=executor), executor


def statuses(batch: Batch) -> list[str]:
    return [job.status.value for job in batch.view().jobs]


def settled(batch: Batch, executor: HeldExecutor, running: list[int]) -> None:
    """Wait until exactly the jobs ``running`` run on the stand-in executor."""
    wait_for(lambda: executor.running() == running, timeout=10, interval=0.01)


def test_the_head_waits_while_the_next_ready_job_starts(tmp_path: Path, blend: Path) -> None:
    batch, executor = batch_of(tmp_path, blend, [[1], [], []])
    batch.start()
    settled(batch, executor, [1])
    wait_for(lambda: "Waiting for job 1 'j1'" in batch.view().job(0).messages, timeout=10)
    assert batch.view().order == (1, 0, 2)
    executor.release(1)
    settled(batch, executor, [0])      # ready now, and first in the order
    executor.release(0)
    settled(batch, executor, [2])
    executor.release(2)
    assert batch.wait(10)
    assert executor.started == [1, 0, 2]
    assert statuses(batch) == ["FINISHED"] * 3
    assert batch.view().job(0).messages.count("Waiting for job 1 'j1'") == 1   # said once


def test_with_two_slots_others_run_while_a_job_waits(tmp_path: Path, blend: Path) -> None:
    batch, executor = batch_of(tmp_path, blend, [[], [0], []], slots=2)
    batch.start()
    settled(batch, executor, [0, 2])
    executor.release(2)                 # a free slot, and job 1 still waits for job 0
    wait_for(lambda: batch.view().job(2).status is JobStatus.FINISHED, timeout=10)
    assert executor.running() == [0] and batch.view().job(1).status is JobStatus.QUEUED
    executor.release(0)
    settled(batch, executor, [1])
    executor.release(1)
    assert batch.wait(10)
    assert executor.started == [0, 2, 1]
    view = batch.view()
    first, waiter = view.job(0).times, view.job(1).times
    assert first.finished is not None and waiter.started is not None and first.finished <= waiter.started


def test_a_failed_or_cancelled_dependency_fails_the_waiting_jobs(tmp_path: Path, blend: Path) -> None:
    batch, executor = batch_of(tmp_path, blend, [[], [0], [1], []], slots=2,
                               keys={1: {"hooks": {"PRE_JOB": [f"touch {tmp_path / 'hook-ran'}"]}}})
    batch.start()
    settled(batch, executor, [0, 3])
    assert batch.cancel_job(0)
    wait_for(lambda: batch.view().job(2).status is JobStatus.FAILED, timeout=10)
    executor.release(3)
    assert batch.wait(10)
    view = batch.view()
    assert statuses(batch) == ["CANCELLED", "FAILED", "FAILED", "FINISHED"]
    assert view.job(1).messages[-1] == "Not rendered: job 0 'j0' was cancelled"
    assert view.job(2).messages[-1] == "Not rendered: job 1 'j1' failed"
    assert executor.started == [0, 3]                      # nothing of them ran
    assert not (tmp_path / "hook-ran").exists()           # not even a PRE_JOB hook
    assert view.job(1).times.started is None


def test_a_job_waiting_for_a_disabled_job_fails(tmp_path: Path, blend: Path) -> None:
    batch, executor = batch_of(tmp_path, blend, [[], [0]], keys={0: {"enabled": False}})
    batch.start()
    assert batch.wait(10)
    assert statuses(batch) == ["DISABLED", "FAILED"]
    assert batch.view().job(1).messages[-1] == "Not rendered: job 0 'j0' is disabled"
    assert executor.started == [] and batch.status is BatchStatus.FINISHED


@pytest.mark.parametrize("enabled_again", [False, True], ids=["skipped", "enabled-again"])
def test_skipping_a_dependency_fails_the_waiter_when_the_loop_reaches_it(
        tmp_path: Path, blend: Path, enabled_again: bool) -> None:
    batch, executor = batch_of(tmp_path, blend, [[], [2], []])
    batch.start()
    settled(batch, executor, [0])
    batch.set_job_enabled(2, False)
    if enabled_again:
        batch.set_job_enabled(2, True)      # queued again, last: job 1 keeps waiting for it
    executor.release(0)
    if enabled_again:
        settled(batch, executor, [2])
        executor.release(2)
        settled(batch, executor, [1])
        executor.release(1)
    assert batch.wait(10)
    if enabled_again:
        assert statuses(batch) == ["FINISHED"] * 3 and executor.started == [0, 2, 1]
    else:
        assert statuses(batch) == ["FINISHED", "FAILED", "DISABLED"] and executor.started == [0]
        assert batch.view().job(1).messages[-1] == "Not rendered: job 2 'j2' is disabled"


def test_moving_a_job_before_its_dependency_makes_it_wait(tmp_path: Path, blend: Path) -> None:
    batch, executor = batch_of(tmp_path, blend, [[], [], [1]])
    batch.start()
    settled(batch, executor, [0])
    batch.move_job(2, 0)
    assert batch.view().order == (0, 1, 2)      # the poll: after the job it waits for
    executor.release(0)
    settled(batch, executor, [1])
    executor.release(1)
    settled(batch, executor, [2])
    executor.release(2)
    assert batch.wait(10)
    assert executor.started == [0, 1, 2] and statuses(batch) == ["FINISHED"] * 3


def test_an_added_job_waits_for_a_running_one(tmp_path: Path, blend: Path) -> None:
    batch, executor = batch_of(tmp_path, blend, [[], []], slots=2)
    batch.start()
    settled(batch, executor, [0, 1])
    [late, later] = batch.add_jobs([job(blend, tmp_path, "late", after=[0]),
                                    job(blend, tmp_path, "later", after=[2, 1])])
    executor.release(1)
    wait_for(lambda: "Waiting for job 0 'j0'" in batch.view().job(late).messages, timeout=10)
    assert executor.running() == [0]
    executor.release(0)
    settled(batch, executor, [late])
    executor.release(late)
    settled(batch, executor, [later])
    executor.release(later)
    assert batch.wait(10)
    assert executor.started == [0, 1, late, later] and statuses(batch) == ["FINISHED"] * 4


def test_a_pause_keeps_waiting_jobs_queued(tmp_path: Path, blend: Path) -> None:
    batch, executor = batch_of(tmp_path, blend, [[], [0], []])
    batch.start()
    settled(batch, executor, [0])
    assert batch.pause("job")
    executor.release(0)
    wait_for(lambda: batch.status is BatchStatus.PAUSED, timeout=10)
    assert statuses(batch) == ["FINISHED", "QUEUED", "QUEUED"]
    assert batch.resume_paused()
    settled(batch, executor, [1])       # ready now, and first in the order
    executor.release(1)
    settled(batch, executor, [2])
    executor.release(2)
    assert batch.wait(10)
    assert statuses(batch) == ["FINISHED"] * 3
