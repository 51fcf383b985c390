"""A farm job's pause without a farm: a fake engine that holds and cancels the way Slurm and
Flamenco were seen to, the watcher's "frame" and "now", and what a restarted Render+ learns
from the manifest (``FarmExecutor.fate``, ``reattach``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from renderplus.batch.executors import ExecEvent, Exited, FramesWritten, JobHandle, Started
from renderplus.batch.executors.farm import FarmExecutor, FarmFate, SharedStorage, SlurmEngine
from renderplus.batch.executors.farm.base import (
    FarmError,
    FarmJobSpec,
    FarmJobStatus,
    FarmTask,
    TaskState,
    UnknownFarmJob,
)
from renderplus.batch.executors.farm.manifest import Manifests
from renderplus.batch.frames import FrameSet
from tests.farm.test_farm_units import FakeEngine, counted_polls, follow, frame_line, wait_exit
from tests.waiting import wait_for


class HoldingEngine(FakeEngine):
    """A fake farm that obeys: ``pause`` holds (waiting tasks stay queued), ``cancel`` ends
    every task not ended yet; ``refuse_holds`` first holds fail as a farm that does not answer."""

    def __init__(self, tasks: int, refuse_holds: int = 0, forgotten: bool = False) -> None:
        super().__init__(tasks)
        self.holds: list[str] = []
        self.refuse_holds = refuse_holds
        self.forgotten = forgotten

    def poll(self, farm_id: str, tasks: Sequence[FarmTask]) -> FarmJobStatus:
        if self.forgotten:
            raise UnknownFarmJob("the fake farm forgot it")
        return super().poll(farm_id, tasks)

    def pause(self, farm_id: str, reason: str) -> None:
        if self.refuse_holds:
            self.refuse_holds -= 1
            raise FarmError("the fake farm does not answer")
        self.holds.append(reason)

    def cancel(self, farm_id: str, reason: str) -> None:
        super().cancel(farm_id, reason)
        for index, state in enumerate(self.states):
            if not state.state.ended:
                self.set(index, TaskState.CANCELLED, -15)


def test_frame_pause_lets_the_running_chunk_finish_and_cancels_the_held_rest() -> None:
    engine = HoldingEngine(3)
    engine.set(0, TaskState.RUNNING)
    watch, events = follow(engine, "1-6", ["1-2", "3-4", "5-6"])
    assert watch.pause(0, "frame")
    assert engine.holds and not engine.cancels
    polls = counted_polls(engine)
    wait_for(lambda: polls() >= 5)   # chunk 0 still runs: nothing cancelled, no end
    assert not engine.cancels and not any(isinstance(e, Exited) for e in events)
    engine.logs[0] = frame_line(1) + frame_line(2)
    engine.set(0, TaskState.COMPLETED, 0)
    exited = wait_exit(events)
    assert exited.paused and not exited.cancelled and not exited.final
    assert "1 of 3 chunk(s) finished" in exited.detail
    assert len(engine.cancels) == 1 and "paused" in engine.cancels[0]
    assert [list(e.frames) for e in events if isinstance(e, FramesWritten)] == [[1], [2]]


def test_a_job_still_waiting_in_the_farm_queue_pauses_without_starting() -> None:
    engine = HoldingEngine(2)                               # nothing started yet
    watch, events = follow(engine, "1-2", ["1", "2"])
    assert watch.pause(0, "frame")
    exited = wait_exit(events)
    assert exited.paused and "0 of 2 chunk(s) finished" in exited.detail
    assert not any(isinstance(e, Started) for e in events)  # it never ran: no Started


def test_frame_pause_of_the_last_running_chunk_is_a_finished_job() -> None:
    engine = HoldingEngine(2)
    engine.set(0, TaskState.COMPLETED, 0)
    engine.set(1, TaskState.RUNNING)
    watch, events = follow(engine, "1-2", ["1", "2"])
    assert watch.pause(0, "frame")
    engine.set(1, TaskState.COMPLETED, 0)
    exited = wait_exit(events)
    assert exited.returncode == 0 and not exited.paused and not engine.cancels


def test_now_cancels_at_once_and_ends_paused_not_cancelled() -> None:
    engine = HoldingEngine(3)
    engine.set(0, TaskState.COMPLETED, 0)
    engine.set(1, TaskState.RUNNING)
    watch, events = follow(engine, "1-3", ["1", "2", "3"])
    assert watch.pause(0, "now")
    exited = wait_exit(events)
    assert exited.paused and not exited.cancelled and not exited.final
    assert exited.returncode == -15 and not engine.holds


def test_now_after_frame_upgrades_and_a_second_pause_is_no_error() -> None:
    engine = HoldingEngine(2)
    engine.set(0, TaskState.RUNNING)
    watch, events = follow(engine, "1-2", ["1", "2"])
    assert watch.pause(0, "frame") and watch.pause(0, "frame")
    assert len(engine.holds) == 1 and not engine.cancels
    assert watch.pause(0, "now")
    assert wait_exit(events).paused
    assert not watch.pause(0, "now")            # ended: unknown to the watch


def test_a_hold_the_farm_did_not_take_is_asked_again() -> None:
    engine = HoldingEngine(2, refuse_holds=2)
    engine.set(0, TaskState.RUNNING)
    watch, events = follow(engine, "1-2", ["1", "2"])
    assert watch.pause(0, "frame")
    wait_for(lambda: engine.holds, timeout=5, interval=0.01)
    assert engine.refuse_holds == 0 and not engine.cancels
    engine.set(0, TaskState.COMPLETED, 0)
    assert wait_exit(events).paused


def test_a_cancelled_job_is_not_paused() -> None:
    engine = HoldingEngine(2)
    engine.set(0, TaskState.RUNNING)
    watch, events = follow(engine, "1-2", ["1", "2"])
    assert watch.cancel(0)
    assert not watch.pause(0, "frame")
    exited = wait_exit(events)
    assert exited.cancelled and not exited.paused


# ---------------------------------------------------------------- the executor and its manifests


def executor_with(engine: HoldingEngine, tmp_path: Path) -> FarmExecutor:
    storage = SharedStorage([str(tmp_path)], str(tmp_path / "staging"))
    return FarmExecutor(engine, storage, poll_interval=0.02)  # type: ignore[arg-type]


def manifest_for(tmp_path: Path, engine: HoldingEngine, chunks: list[str]) -> tuple[Manifests, JobHandle]:
    """A farm job "7" as a dead run's submit left it: its manifest, and the stored handle."""
    tasks = tuple(FarmTask(i, FrameSet.parse(c), ("b",)) for i, c in enumerate(chunks))
    spec = FarmJobSpec("renderplus-job0", 0, "a.blend", str(tmp_path), tasks)
    manifests = Manifests(str(tmp_path / "staging"), engine.name)
    manifests.write_new("7", 0, FrameSet.parse(",".join(chunks)), spec)
    return manifests, JobHandle("farm:fake", 0, farm_id="7")


def test_fate_tells_a_paused_job_from_a_pausing_a_running_and_a_lost_one(tmp_path: Path) -> None:
    engine = HoldingEngine(2)
    executor = executor_with(engine, tmp_path)
    manifests, handle = manifest_for(tmp_path, engine, ["1", "2"])
    engine.set(0, TaskState.RUNNING)
    assert executor.fate(handle) is FarmFate.RUNNING
    manifests.record_pause("7", "frame")        # asked; the farm still runs chunk 0
    assert executor.fate(handle) is FarmFate.PAUSING
    engine.set(0, TaskState.COMPLETED, 0)
    engine.set(1, TaskState.CANCELLED, -15)     # the dead run cancelled the held rest
    assert executor.fate(handle) is FarmFate.PAUSED
    engine.forgotten = True                     # aged out of the farm's tables
    assert executor.fate(handle) is FarmFate.PAUSED
    assert executor.fate(JobHandle("farm:fake", 1, farm_id="8")) is FarmFate.LOST  # no manifest


def test_fate_of_a_forgotten_job_never_paused_is_lost(tmp_path: Path) -> None:
    engine = HoldingEngine(1, forgotten=True)
    _manifests, handle = manifest_for(tmp_path, engine, ["1"])
    assert executor_with(engine, tmp_path).fate(handle) is FarmFate.LOST


def test_fate_of_a_finished_job_is_ended_even_if_a_pause_was_asked(tmp_path: Path) -> None:
    engine = HoldingEngine(2)
    executor = executor_with(engine, tmp_path)
    manifests, handle = manifest_for(tmp_path, engine, ["1", "2"])
    engine.set(0, TaskState.COMPLETED, 0)
    engine.set(1, TaskState.COMPLETED, 0)
    assert executor.fate(handle) is FarmFate.ENDED
    manifests.record_pause("7", "frame")
    assert executor.fate(handle) is FarmFate.ENDED


def test_reattach_goes_on_with_the_pause_and_records_it(tmp_path: Path) -> None:
    engine = HoldingEngine(3)
    executor = executor_with(engine, tmp_path)
    manifests, handle = manifest_for(tmp_path, engine, ["1", "2", "3"])
    manifests.record_pause("7", "frame")        # then Render+ was killed
    engine.set(0, TaskState.RUNNING)
    events: list[ExecEvent] = []
    executor.reattach(JobHandle.from_json(handle.to_json()), events.append)
    wait_for(lambda: engine.holds, timeout=5, interval=0.01)   # held again
    assert not engine.cancels
    engine.set(0, TaskState.COMPLETED, 0)
    exited = wait_exit(events)
    assert exited.paused
    manifest = manifests.read("7")
    assert manifest is not None and manifest["pause"]["when"] == "frame" and manifest["paused"]
    assert executor.fate(handle) is FarmFate.PAUSED


def test_pause_of_an_unknown_job_is_false_and_an_unknown_when_an_error(tmp_path: Path) -> None:
    executor = executor_with(HoldingEngine(1), tmp_path)
    assert not executor.pause(3, "frame", 5.0)
    with pytest.raises(ValueError, match="unknown pause"):
        executor.pause(3, "job", 5.0)


def fake_scontrol(folder: Path, answer: str, code: int) -> None:
    """An ``scontrol`` that answers as Slurm 22.05 was seen to (stderr, exit code)."""
    script = folder / "scontrol"
    script.write_text(f"#!/bin/sh\nprintf '%s' '{answer}' >&2\nexit {code}\n")
    script.chmod(0o755)


@pytest.mark.parametrize(("answer", "code", "fails"), [
    ("", 0, False),
    ("1_0: Job has already finished\n1_1-2: No error\n", 1, False),   # a hold asked again
    ("Invalid job id specified\n", 1, True),
    ("Unable to contact slurm controller (connect failure)\n", 1, True),
])
def test_slurm_hold_accepts_only_the_per_task_answers_of_an_array(
        answer: str, code: int, fails: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_scontrol(tmp_path, answer, code)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    engine = SlurmEngine()
    if fails:
        with pytest.raises(FarmError, match=answer.strip()[:20]):
            engine.pause("1", "paused")
    else:
        engine.pause("1", "paused")
