"""The queue's hand-over with the real Blender: the next batch starts when the current one ends,
and a Render+ killed (SIGKILL) during a hand-over comes back with its queue held as it was;
continuing it drops no queued batch and renders no finished frame again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from renderplus.batch.observers import BatchEvent, ObserverContext, QueueEnded
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.runner import RunOptions
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from tests.batch.service_driver import start_service
from tests.procs import processes_with
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]
Factory = Callable[..., Path]


def recipe(out: Path, name: str, blend: Path, frames: int = 2) -> dict[str, object]:
    return {"version": 2.2, "name": name, "jobs": [
        {"id": 0, "name": f"{name}-shot", "blend_file": str(blend), "animated": True,
         "frame_start": 1, "frame_end": frames, "output": str(out / f"{name}_####")}]}


def stamps(folder: Path, name: str) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in folder.glob(f"{name}_*.png")}


class QueueEnds:
    after_batch = None

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, context: ObserverContext) -> QueueEnds:
        return self

    def notify(self, event: BatchEvent) -> None:
        if isinstance(event, QueueEnded):
            self.names.append(event.view.name)


@pytest.fixture
def restarted(tmp_path: Path) -> Iterator[Callable[[Path], BatchService]]:
    made: list[BatchService] = []

    def make(work: Path) -> BatchService:
        service = BatchService(RunOptions(kill_grace=2.0), work_dir=work, store=BatchStore.open(work))
        made.append(service)
        return service
    yield make
    for service in made:
        service.shutdown(timeout=30)


def kill(driver: subprocess.Popen[str], out: Path) -> None:
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait(10)
    wait_for(lambda: not processes_with(str(out)), timeout=15)


def test_the_next_batch_starts_when_the_current_one_ends(
        tmp_path: Path, blend_factory: Factory,
        restarted: Callable[[Path], BatchService]) -> None:
    blend, out = blend_factory(frames=2), tmp_path / "out"
    ends = QueueEnds()
    service = BatchService(RunOptions(kill_grace=2.0), work_dir=tmp_path / "work",
                           store=BatchStore.open(tmp_path / "work"), observers=[ends])
    try:
        service.enqueue(parse_recipe(recipe(out, "one", blend)))
        service.enqueue(parse_recipe(recipe(out, "two", blend)))
        first = service.batch
        assert first is not None and first.recipe.name == "one"
        assert [e.name for e in service.queue_view().entries] == ["two"]
        assert first.wait(120) and first.status == "FINISHED"
        wait_for(lambda: service.batch is not first, timeout=30)
        second = service.batch
        assert second is not None and second.recipe.name == "two"
        assert second.wait(120)
        for batch in (first, second):
            view = batch.view()
            assert view.status == "FINISHED" and view.jobs[0].status == "FINISHED", view.messages
        assert sorted(p.name for p in out.glob("*.png")) == [
            "one_0001.png", "one_0002.png", "two_0001.png", "two_0002.png"]
        start_two, end_one = second.view().times.started, first.view().times.finished
        assert start_two is not None and end_one is not None and start_two >= end_one
        wait_for(lambda: ends.names == ["two"], timeout=30)
        assert service.queue_view().entries == ()
    finally:
        service.shutdown(timeout=30)


STALL_THE_HAND_OVER = """
from renderplus.batch import queue as queue_module
taking = queue_module.BatchQueue.take_next
def stalled(self):
    handed = taking(self)
    print("handing over", handed.entry.name if handed else None, flush=True)
    time.sleep(600)
queue_module.BatchQueue.take_next = stalled
for queued in {queued!r}:
    service.enqueue(parse_recipe(json.loads(queued)))
"""

QUEUE_MORE = """
for queued in {queued!r}:
    service.enqueue(parse_recipe(json.loads(queued)))
"""


def test_killed_between_taking_the_next_batch_and_starting_it(
        tmp_path: Path, blend_factory: Factory,
        restarted: Callable[[Path], BatchService]) -> None:
    blend, out, work = blend_factory(frames=1), tmp_path / "out", tmp_path / "work"
    queued = [json.dumps(recipe(out, name, blend, frames=1)) for name in ("two", "three")]
    driver = start_service(work, recipe(out, "one", blend, frames=1),
                           then=STALL_THE_HAND_OVER.format(queued=queued))
    assert driver.stdout is not None
    assert driver.stdout.readline().strip() == "handing over two"   # "one" ended: taken, not started
    kill(driver, out)

    service = restarted(work)
    view = service.queue_view()
    assert view.held and [(e.name, e.position) for e in view.entries] == [("two", 0), ("three", 1)]
    assert not service.running
    assert [(b.name, b.status) for b in service.history()] == [("one", "FINISHED")]
    assert not service.continue_queue().held
    wait_for(lambda: service.batch is not None and service.batch.recipe.name == "three"
             and service.batch.status.ended, timeout=180)
    names = [(b.name, b.status) for b in reversed(service.history())]
    assert names == [("one", "FINISHED"), ("two", "FINISHED"), ("three", "FINISHED")]
    assert {p.name for p in out.glob("*.png")} == {"one_0001.png", "two_0001.png",
                                                   "three_0001.png"}


def test_killed_while_the_handed_over_batch_renders(
        tmp_path: Path, blend_factory: Factory,
        restarted: Callable[[Path], BatchService]) -> None:
    quick = blend_factory(frames=1)
    slow = blend_factory(size=(96, 72), samples=600, frames=4)
    out, work = tmp_path / "out", tmp_path / "work"
    queued = [json.dumps(recipe(out, "two", slow, frames=4)),
              json.dumps(recipe(out, "three", quick, frames=1))]
    driver = start_service(work, recipe(out, "one", quick, frames=1),
                           then=QUEUE_MORE.format(queued=queued))
    wait_for(lambda: len(list(out.glob("two_*.png"))) >= 1, timeout=180)
    kill(driver, out)
    before = stamps(out, "two")

    service = restarted(work)
    shown = service.view()
    assert shown is not None and shown.name == "two" and shown.resumable
    view = service.queue_view()
    assert view.held and [e.name for e in view.entries] == ["three"]
    service.continue_queue()                     # the interrupted batch goes first
    batch = service.batch
    assert batch is not None and batch.recipe.name == "two" and batch.running
    assert batch.wait(300) and batch.status == "FINISHED", batch.view().messages
    wait_for(lambda: service.batch is not None and service.batch.recipe.name == "three"
             and service.batch.status.ended, timeout=120)
    assert len(stamps(out, "two")) == 4 and len(list(out.glob("three_*.png"))) == 1
    after = stamps(out, "two")
    recorded = {Path(p).name for p in shown.jobs[0].outputs}
    for name in recorded:
        assert after[name] == before[name], f"{name} was rendered again"
    assert service.queue_view().entries == ()
