"""When a batch renders (docs/engine-api.md, When to render), with an injected clock and a
stand-in Blender whose frames wait for the test: a start time (WAITING, then it starts by
itself; a cancel while it waits), a window (a batch started outside it waits; its end pauses
after the frame and the next start continues it; a batch paused by hand waits for a resume),
a resume outside the window (409), and a waiting batch at the queue's head."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.clock import ManualClock
from renderplus.batch.observers import BatchEnded, BatchEvent, BatchPaused, ObserverContext
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.runner import Batch, RunOptions
from renderplus.batch.service import BatchRunningError, BatchService, OutsideWindowError, PauseError
from renderplus.batch.view import BatchStatus, JobStatus
from tests.batch.schedule_fakes import GatedBlender, at
from tests.waiting import wait_for

NIGHT = {"start": "22:00", "end": "06:00"}


class Heard:
    after_batch = None

    def __init__(self) -> None:
        self.events: list[str] = []

    def notify(self, event: BatchEvent) -> None:
        self.events.append(type(event).__name__)

    def factory(self, context: ObserverContext) -> Heard:
        return self


@pytest.fixture
def blender(tmp_path: Path) -> GatedBlender:
    return GatedBlender(tmp_path)


def make_batch(blender: GatedBlender, clock: ManualClock, heard: Heard | None = None,
               **top: Any) -> Batch:
    recipe = parse_recipe(blender.recipe(trail=blender.folder / "trail", **top))
    return Batch(recipe, RunOptions(clock=clock),
                 observers=[heard.factory] if heard is not None else ())


def trail(blender: GatedBlender) -> list[str]:
    path = blender.folder / "trail"
    return path.read_text().split() if path.exists() else []


def status_is(batch: Batch, status: BatchStatus) -> Callable[[], bool]:
    return lambda: batch.status is status


# ---------------------------------------------------------------- start_at


def test_a_future_start_time_waits_then_starts_by_itself(blender: GatedBlender) -> None:
    clock = ManualClock(at("12:00"))
    start = at("12:00") + 3600
    batch = make_batch(blender, clock, start_at=start)
    batch.start()
    assert batch.status is BatchStatus.WAITING and batch.running
    assert clock.wait_for_timer(start) == start
    poll = batch.snapshot()
    assert poll["status"] == "WAITING" and poll["starts_at"] == start
    assert "continues_at" not in poll
    assert any("Waiting to start at" in message for message in poll["messages"])
    clock.advance(3599)
    assert batch.status is BatchStatus.WAITING and trail(blender) == []   # no PRE_BATCH yet
    blender.open(1, 2, 3, 4)
    clock.advance(1)
    assert batch.wait(60)
    assert batch.status is BatchStatus.FINISHED
    assert batch.snapshot()["starts_at"] is None
    assert trail(blender) == ["batch", "job"]
    assert blender.rendered() == {1: 1, 2: 1, 3: 1, 4: 1}


def test_a_time_of_day_means_the_next_one(blender: GatedBlender) -> None:
    clock = ManualClock(at("23:00"))
    batch = make_batch(blender, clock, start_at="22:30")
    batch.start()
    assert batch.view().starts_at == at("22:30", days=1)
    assert batch.cancel() and batch.wait(30)


def test_a_start_time_already_past_starts_at_once(blender: GatedBlender) -> None:
    clock = ManualClock(at("12:00"))
    blender.open(1, 2, 3, 4)
    batch = make_batch(blender, clock, start_at=at("11:00"))
    batch.start()
    assert batch.wait(60) and batch.status is BatchStatus.FINISHED
    assert clock.pending == []


def test_a_cancel_while_waiting_ends_it_without_rendering(blender: GatedBlender) -> None:
    clock = ManualClock(at("12:00"))
    heard = Heard()
    batch = make_batch(blender, clock, heard, start_at="22:00")
    batch.start()
    clock.wait_for_timer(at("22:00"))
    assert batch.cancel()
    assert batch.wait(30) and batch.status is BatchStatus.CANCELLED
    assert [job.status for job in batch.view().jobs] == [JobStatus.CANCELLED]
    assert clock.pending == [] and trail(blender) == [] and blender.rendered() == {}
    assert heard.events[-1] == BatchEnded.__name__
    clock.advance(86_400)
    assert blender.rendered() == {}


# ---------------------------------------------------------------- the window


def test_a_batch_started_outside_its_window_waits_for_its_start(blender: GatedBlender) -> None:
    clock = ManualClock(at("12:00"))
    batch = make_batch(blender, clock, settings={"window": NIGHT})
    batch.start()
    assert batch.status is BatchStatus.WAITING and batch.view().starts_at == at("22:00")
    clock.wait_for_timer(at("22:00"))
    blender.open(1, 2, 3, 4)
    clock.set(at("22:00"))
    assert batch.wait(60) and batch.status is BatchStatus.FINISHED


def test_the_window_end_pauses_after_the_frame_and_its_start_continues(
        blender: GatedBlender) -> None:
    clock = ManualClock(at("23:00"))
    heard = Heard()
    batch = make_batch(blender, clock, heard, settings={"window": NIGHT})
    batch.start()
    assert batch.status is BatchStatus.RUNNING
    end = at("06:00", days=1)
    clock.wait_for_timer(end)
    blender.open(1)
    wait_for(lambda: batch.view().job(0).frames_done == 1, timeout=30, interval=0.02)
    clock.set(end)                      # the window closes while frame 2 renders
    assert batch.pausing == "frame"
    blender.open(2)                     # frame 2 is finished, then the job stops
    wait_for(status_is(batch, BatchStatus.PAUSED), timeout=30, interval=0.02)
    poll = batch.snapshot()
    assert poll["continues_at"] == at("22:00", days=1)
    assert poll["jobs"][0]["frames_done"] == 2 and poll["jobs"][0]["status"] == "QUEUED"
    assert any("Paused at the end of its window 22:00-06:00" in m for m in poll["messages"])
    assert heard.events.count(BatchPaused.__name__) == 1
    assert clock.pending == [at("22:00", days=1)]
    assert {path.name for path in blender.out.iterdir()} == {"f_0001.png", "f_0002.png"}
    blender.open(3, 4)
    clock.set(at("22:00", days=1))      # the next start: only the missing frames render
    assert batch.wait(60) and batch.status is BatchStatus.FINISHED
    assert blender.rendered() == {1: 1, 2: 1, 3: 1, 4: 1}
    assert trail(blender) == ["batch", "job", "job"]   # PRE_BATCH once, PRE_JOB again
    assert clock.pending == []


def test_a_batch_paused_by_hand_does_not_continue_by_itself(blender: GatedBlender) -> None:
    clock = ManualClock(at("23:00"))
    batch = make_batch(blender, clock, settings={"window": NIGHT})
    batch.start()
    clock.wait_for_timer(at("06:00", days=1))
    blender.open(1)
    wait_for(lambda: batch.view().job(0).frames_done == 1, timeout=30, interval=0.02)
    assert batch.pause("frame")
    blender.open(2)
    wait_for(status_is(batch, BatchStatus.PAUSED), timeout=30, interval=0.02)
    assert batch.view().continues_at is None and clock.pending == []
    clock.set(at("23:00", days=2))
    assert batch.status is BatchStatus.PAUSED
    assert batch.cancel() and batch.wait(30)


def test_a_hand_pause_over_the_windows_makes_it_wait_for_a_resume(blender: GatedBlender) -> None:
    clock = ManualClock(at("23:00"))
    batch = make_batch(blender, clock, settings={"window": NIGHT})
    batch.start()
    clock.wait_for_timer(at("06:00", days=1))
    blender.open(1)
    wait_for(lambda: batch.view().job(0).frames_done == 1, timeout=30, interval=0.02)
    clock.set(at("06:00", days=1))
    blender.open(2)
    wait_for(status_is(batch, BatchStatus.PAUSED), timeout=30, interval=0.02)
    assert batch.view().continues_at is not None
    assert batch.pause("frame")         # by hand now: no continue at 22:00
    assert batch.view().continues_at is None and clock.pending == []
    clock.set(at("23:00", days=1))
    assert batch.status is BatchStatus.PAUSED
    assert batch.cancel() and batch.wait(30)


def test_the_windows_end_over_a_hand_pause_keeps_it_a_hand_pause(blender: GatedBlender) -> None:
    clock = ManualClock(at("23:00"))
    batch = make_batch(blender, clock, settings={"window": NIGHT})
    batch.start()
    clock.wait_for_timer(at("06:00", days=1))
    blender.open(1)
    wait_for(lambda: batch.view().job(0).frames_done == 1, timeout=30, interval=0.02)
    assert batch.pause("job")           # by hand: the running job may finish
    clock.set(at("06:00", days=1))      # the window's end makes it "after the frame"
    assert batch.pausing == "frame"
    blender.open(2)
    wait_for(status_is(batch, BatchStatus.PAUSED), timeout=30, interval=0.02)
    assert batch.view().continues_at is None and clock.pending == []
    assert blender.rendered() == {1: 1, 2: 1}
    assert batch.cancel() and batch.wait(30)


# ---------------------------------------------------------------- the service and the queue


def service_of(tmp_path: Path, clock: ManualClock, **kwargs: Any) -> BatchService:
    return BatchService(RunOptions(clock=clock), work_dir=tmp_path / "work", **kwargs)


def test_a_resume_outside_the_window_says_when_it_continues(
        tmp_path: Path, blender: GatedBlender) -> None:
    clock = ManualClock(at("23:00"))
    service = service_of(tmp_path, clock)
    service.load_recipe(parse_recipe(blender.recipe(settings={"window": NIGHT})))
    batch = service.start()
    clock.wait_for_timer(at("06:00", days=1))
    blender.open(1)
    wait_for(lambda: batch.view().job(0).frames_done == 1, timeout=30, interval=0.02)
    service.pause("frame")              # by hand, inside the window
    blender.open(2)
    wait_for(status_is(batch, BatchStatus.PAUSED), timeout=30, interval=0.02)
    clock.set(at("07:00", days=1))      # morning: the window is closed
    with pytest.raises(OutsideWindowError) as refused:
        service.resume()
    assert refused.value.status == 409
    assert str(refused.value) == ("The batch is outside its window 22:00-06:00: it continues "
                                  "by itself at 22:00")
    # asked to continue, it is left to its window: it continues by itself tonight
    assert batch.view().continues_at == at("22:00", days=1)
    assert clock.pending == [at("22:00", days=1)]
    blender.open(3, 4)
    clock.set(at("22:00", days=1))
    assert batch.wait(60) and batch.status is BatchStatus.FINISHED
    assert blender.rendered() == {1: 1, 2: 1, 3: 1, 4: 1}


def test_a_waiting_batch_holds_the_slot(tmp_path: Path, blender: GatedBlender) -> None:
    clock = ManualClock(at("12:00"))
    service = service_of(tmp_path, clock)
    service.load_recipe(parse_recipe(blender.recipe(start_at="22:00")))
    batch = service.start()
    assert service.running and batch.status is BatchStatus.WAITING
    with pytest.raises(BatchRunningError, match="A batch waits to start at 22:00"):
        service.start()
    with pytest.raises(PauseError, match="waits to start at 22:00: nothing renders yet"):
        service.pause("frame")
    service.cancel_job(0)               # a queued job of a waiting batch can be cancelled
    assert batch.view().job(0).status is JobStatus.CANCELLED and batch.status is BatchStatus.WAITING
    service.cancel()
    assert batch.wait(30) and batch.status is BatchStatus.CANCELLED


def test_a_waiting_head_of_the_queue_holds_the_batches_behind_it(
        tmp_path: Path, blender: GatedBlender) -> None:
    clock = ManualClock(at("12:00"))
    service = service_of(tmp_path, clock)
    first = service.enqueue(parse_recipe(blender.recipe(start_at="22:00", name="night")))
    second = service.enqueue(parse_recipe(blender.recipe(name="after")))
    current = service.batch
    assert current is not None and current.recipe.name == "night"
    assert current.status is BatchStatus.WAITING
    assert [entry.id for entry in service.queue_view().entries] == [second.id]
    assert first.id != second.id
    clock.wait_for_timer(at("22:00"))
    assert service.batch is current and service.queue_view().entries   # still held
    blender.open(1, 2, 3, 4)
    clock.set(at("22:00"))
    assert current.wait(60) and current.status is BatchStatus.FINISHED
    wait_for(lambda: service.batch is not current and service.batch is not None
             and service.batch.status.ended, timeout=60, interval=0.02)
    after = service.batch
    assert after is not None and after.recipe.name == "after"
    assert after.status is BatchStatus.FINISHED
    assert service.queue_view().entries == ()
    started = after.view().times.started
    finished = current.view().times.finished
    assert started is not None and finished is not None and started >= finished
