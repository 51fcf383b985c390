"""A pause a dead Render+ left under way on a farm, without a farm: ``finish_pause`` by the
job's fate, and ``LeftPausing``, which a restored PAUSED batch waits on before continuing."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from renderplus.batch.executors import ExecEvent, ExecutorError, Exited, JobHandle
from renderplus.batch.executors.base import EventSink
from renderplus.batch.executors.farm import FarmFate
from renderplus.batch.executors.farm.base import TaskState
from renderplus.batch.left_pausing import LeftPausing
from renderplus.batch.view import BatchStatus, JobStatus
from tests.farm.test_farm_pause_units import HoldingEngine, executor_with, manifest_for
from tests.farm.test_farm_units import wait_exit
from tests.waiting import wait_for


def test_a_job_the_dead_run_never_paused_on_the_farm_is_paused_after_the_frame(tmp_path: Path) -> None:
    engine = HoldingEngine(3)
    executor = executor_with(engine, tmp_path)
    manifests, handle = manifest_for(tmp_path, engine, ["1", "2", "3"])
    engine.set(0, TaskState.RUNNING)                 # the store said PAUSED, the farm never heard
    assert executor.fate(handle) is FarmFate.RUNNING
    events: list[ExecEvent] = []
    assert executor.finish_pause(handle, events.append)
    wait_for(lambda: engine.holds, timeout=5, interval=0.01)
    assert not engine.cancels                        # chunk 0 finishes first
    engine.set(0, TaskState.COMPLETED, 0)
    assert wait_exit(events).paused
    assert len(engine.cancels) == 1                  # the held rest
    manifest = manifests.read("7")
    assert manifest is not None and manifest["pause"]["when"] == "frame"
    assert executor.fate(handle) is FarmFate.PAUSED


def test_nothing_on_the_farm_is_left_alone(tmp_path: Path) -> None:
    engine = HoldingEngine(2)
    executor = executor_with(engine, tmp_path)
    manifests, handle = manifest_for(tmp_path, engine, ["1", "2"])
    engine.set(0, TaskState.COMPLETED, 0)
    engine.set(1, TaskState.COMPLETED, 0)            # ENDED
    assert not executor.finish_pause(handle, lambda event: None)
    manifests.record_pause("7", "frame")
    engine.set(1, TaskState.CANCELLED, -15)          # PAUSED
    assert not executor.finish_pause(handle, lambda event: None)
    assert not executor.finish_pause(JobHandle("farm:fake", 0, farm_id="8"), lambda e: None)  # LOST
    assert not engine.holds and not engine.cancels and executor.capacity == executor.max_jobs


class Farmish:
    """An executor that finishes pauses: job 0's goes on until ``end`` is called, job 1 has
    nothing left on the farm, job 2's farm does not answer."""

    name = "farm:fake"

    def __init__(self) -> None:
        self.sinks: dict[int, EventSink] = {}

    def finish_pause(self, handle: JobHandle, sink: EventSink) -> bool:
        if handle.job_id == 2:
            raise ExecutorError("the farm does not answer")
        self.sinks[handle.job_id] = sink
        return handle.job_id == 0

    def end(self, job_id: int) -> None:
        self.sinks[job_id](Exited(job_id, -15, 0.0, paused=True, detail="1 of 3 chunk(s) finished"))


def stored(status: BatchStatus, *jobs: tuple[JobStatus, str]) -> Any:
    return SimpleNamespace(status=status, jobs=[
        SimpleNamespace(job_id=i, status=s, handle=JobHandle(name, i, farm_id=str(i)))
        for i, (s, name) in enumerate(jobs)])


def test_the_jobs_left_pausing_are_waited_for_and_said() -> None:
    said: list[str] = []
    left, farm = LeftPausing(said.append), Farmish()
    left.start(stored(BatchStatus.PAUSED, (JobStatus.RUNNING, "farm:fake"),
                      (JobStatus.RUNNING, "farm:fake"), (JobStatus.RUNNING, "farm:fake"),
                      (JobStatus.RUNNING, "local"), (JobStatus.QUEUED, "farm:fake")), farm)  # type: ignore[arg-type]
    assert left.jobs == (0,) and not left.wait(0)
    assert sorted(farm.sinks) == [0, 1]              # neither the local nor the queued job
    assert any("Job 0 was pausing on the farm" in s for s in said)
    assert any("Job 2: cannot ask the farm" in s for s in said)
    farm.end(0)
    assert left.wait(0) and left.jobs == ()
    assert said[-1] == "Job 0's pause on the farm has ended: 1 of 3 chunk(s) finished"


def test_only_a_paused_batch_on_such_an_executor_waits() -> None:
    left, farm = LeftPausing(lambda s: None), Farmish()
    left.start(stored(BatchStatus.RUNNING, (JobStatus.RUNNING, "farm:fake")), farm)  # type: ignore[arg-type]
    left.start(stored(BatchStatus.PAUSED, (JobStatus.RUNNING, "farm:fake")), None)
    assert left.wait(0) and not farm.sinks
