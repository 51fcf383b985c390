"""The engine's observer port, its run order and its per-job executor choice, with a stand-in
Blender: which events a batch emits and in what order, an observer's failure never failing the
batch, an after-batch action called off by ``cancel``, jobs routed to executors one by one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from renderplus.batch.executors import ProcessExecutor
from renderplus.batch.observers import (
    BatchEnded,
    BatchEvent,
    JobChanged,
    JobFailed,
    ObserverContext,
)
from renderplus.batch.order import RunOrder
from renderplus.batch.recipe import Job
from renderplus.batch.runner import Batch
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from renderplus.batch.view import BatchStatus, PowerOffState
from tests.batch.conftest import frame_marker, make_recipe
from tests.frames import PNG

Fake = Callable[[str], str]


def two_jobs(tmp_path: Path, fake_blender: Fake) -> Any:
    """Job 0 renders its frame (a stand-in Blender); job 1's .blend is missing: it FAILS."""
    blend = tmp_path / "scene.blend"
    blend.write_bytes(b"BLENDER-v304")
    frame = tmp_path / "out_0001.png"
    fake = fake_blender(f"open({str(frame)!r}, 'wb').write({PNG!r})\n"
                        f"print({frame_marker(1, str(frame))!r})")
    return make_recipe([{"blend_file": str(blend), "output": str(tmp_path / "out_")},
                        {"blend_file": str(tmp_path / "missing.blend")}], blender_bin=fake)


class Recording:
    """An observer that keeps every event."""

    def __init__(self, context: ObserverContext) -> None:
        self.context = context
        self.events: list[BatchEvent] = []

    def notify(self, event: BatchEvent) -> None:
        self.events.append(event)

    @property
    def after_batch(self) -> None:
        return None


def test_a_batch_emits_job_changes_a_failure_with_its_reason_and_its_end(
        tmp_path: Path, fake_blender: Fake) -> None:
    made: list[Recording] = []

    def factory(context: ObserverContext) -> Recording:
        made.append(Recording(context))
        return made[-1]

    batch = Batch(two_jobs(tmp_path, fake_blender), observers=[factory])
    assert made == []  # observers are made when the batch runs, not for a batch only shown
    assert batch.run() is BatchStatus.FINISHED
    [observer] = made
    events = observer.events
    assert isinstance(events[0], JobChanged) and events[0].job_id is None  # the batch started
    assert isinstance(events[-1], BatchEnded) and events[-1].view.status is BatchStatus.FINISHED
    assert sum(isinstance(event, BatchEnded) for event in events) == 1
    [failed] = [event for event in events if isinstance(event, JobFailed)]
    assert failed.job_id == 1 and failed.reason.startswith("Blend file not found")
    before = events[events.index(failed) - 1]
    assert isinstance(before, JobChanged) and before.job_id == 1  # the change, then the failure
    statuses = [(e.job_id, e.view.jobs[e.job_id].status.value) for e in events
                if isinstance(e, JobChanged) and e.job_id is not None]
    assert statuses == [(0, "RUNNING"), (0, "FINISHED"), (1, "RUNNING"), (1, "FAILED")]
    assert observer.context.recipe is batch.recipe


class Broken:
    def notify(self, event: BatchEvent) -> None:
        raise RuntimeError(f"observer broke on {type(event).__name__}")

    @property
    def after_batch(self) -> None:
        raise RuntimeError("no action here")


def test_a_failing_observer_never_fails_the_batch_and_the_others_still_hear(
        tmp_path: Path, fake_blender: Fake) -> None:
    heard: list[Recording] = []

    def recording(context: ObserverContext) -> Recording:
        heard.append(Recording(context))
        return heard[-1]

    def broken_factory(context: ObserverContext) -> Broken:
        raise OSError("cannot start")

    batch = Batch(two_jobs(tmp_path, fake_blender),
                  observers=[lambda context: Broken(), broken_factory, recording])
    assert batch.run() is BatchStatus.FINISHED
    view = batch.view()
    assert [job.status.value for job in view.jobs] == ["FINISHED", "FAILED"]
    assert any("JobChanged observer failed: RuntimeError: observer broke on JobChanged" in m
               for m in view.messages)
    assert any("Starting an observer failed: OSError: cannot start" in m for m in view.messages)
    assert isinstance(heard[0].events[-1], BatchEnded)
    assert not batch.poweroff_pending and batch.wait_poweroff(0)


class PendingAction:
    """An after-batch action pending until called off."""

    def __init__(self) -> None:
        self.called_off = threading.Event()

    @property
    def state(self) -> PowerOffState | None:
        return None if self.called_off.is_set() else PowerOffState("POWEROFF", 2e9)

    def cancel(self) -> bool:
        pending = not self.called_off.is_set()
        self.called_off.set()
        return pending

    def wait(self, timeout: float | None = None) -> bool:
        return self.called_off.wait(timeout)


class WithAction(Recording):
    def __init__(self, context: ObserverContext) -> None:
        super().__init__(context)
        self.action = PendingAction()

    @property
    def after_batch(self) -> PendingAction:  # type: ignore[override]
        return self.action


def test_an_observers_after_batch_action_shows_and_a_cancel_calls_it_off(
        tmp_path: Path, fake_blender: Fake) -> None:
    batch = Batch(two_jobs(tmp_path, fake_blender), observers=[WithAction])
    batch.run()
    assert batch.poweroff_pending and batch.view().poweroff == PowerOffState("POWEROFF", 2e9)
    assert not batch.wait_poweroff(0)
    assert batch.cancel()  # the batch has ended: the cancel is the pending action's
    assert batch.wait_poweroff(0) and not batch.poweroff_pending and not batch.cancel()


def test_each_job_runs_on_the_executor_chosen_for_it(tmp_path: Path, fake_blender: Fake) -> None:
    blend = tmp_path / "scene.blend"
    blend.write_bytes(b"BLENDER-v304")
    jobs = []
    for index in range(3):
        frame = tmp_path / f"job{index}_0001.png"
        jobs.append({"blend_file": str(blend), "output": str(tmp_path / f"job{index}_"),
                     "blender_bin": fake_blender(f"open({str(frame)!r}, 'wb').write({PNG!r})\n"
                                                 f"print({frame_marker(1, str(frame))!r})")})
    executors = [ProcessExecutor(1), ProcessExecutor(1)]
    chosen: list[int] = []

    def choose(job: Job) -> ProcessExecutor:
        chosen.append(job.id)
        return executors[job.id % 2]

    batch = Batch(make_recipe(jobs), choose_executor=choose)
    assert batch.run() is BatchStatus.FINISHED
    assert [job.status.value for job in batch.view().jobs] == ["FINISHED"] * 3
    assert sorted(set(chosen)) == [0, 1, 2]
    assert batch.executors.used == tuple(executors)
    assert all(executor.capacity == 0 for executor in executors)  # both closed with the batch


def test_the_run_order_is_data_the_queue_can_change() -> None:
    order = RunOrder([0, 1, 2])
    assert order.peek() == 0 and len(order) == 3 and 1 in order
    order.add(3, 0)          # a job put first
    order.add(1)             # a job moved last
    assert list(order) == [3, 0, 2, 1]
    assert order.remove(2) and not order.remove(2)
    assert order.pop() == 3 and order.take_all() == [0, 1]
    assert order.peek() is None and order.pop() is None and len(order) == 0


def test_the_service_hands_its_observers_to_every_batch_it_starts_or_resumes(tmp_path: Path) -> None:
    made: list[Recording] = []

    def factory(context: ObserverContext) -> Recording:
        made.append(Recording(context))
        return made[-1]

    store = BatchStore.open(tmp_path / "store")
    service = BatchService(work_dir=tmp_path, store=store, observers=[factory])
    service.load_recipe(make_recipe([{"blend_file": str(tmp_path / "missing.blend")}]))
    first = service.start()
    assert first.wait(30)
    again = service.resume()  # its FAILED job again
    assert again is not first and again.wait(30)
    assert [observer.context.recipe.name for observer in made] == ["test batch"] * 2
    assert all(isinstance(observer.events[-1], BatchEnded) for observer in made)
    store.close()
