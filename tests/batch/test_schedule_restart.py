"""When to render survives a killed Render+: a batch WAITING for its start waits again and
starts by itself; a batch its window paused is still PAUSED and continues by itself at the
window's next start (only its missing frames render). The first Render+ is a child process on
an injected clock, killed with SIGKILL; the second one has a clock of the test's."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from renderplus.batch.clock import ManualClock
from renderplus.batch.runner import RunOptions
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from renderplus.batch.view import BatchStatus, JobStatus
from tests.batch.schedule_fakes import GatedBlender, at
from tests.batch.service_driver import start_service
from tests.waiting import wait_for

NIGHT = {"start": "22:00", "end": "06:00"}


def on_clock(now: float) -> str:
    """``prepare`` lines: the child's batches go by a clock the child moves by hand."""
    return ("from renderplus.batch.clock import ManualClock\n"
            "import renderplus.batch.batch_schedule as timing\n"
            f"clock = timing.SYSTEM_CLOCK = ManualClock({now!r})\n")


@pytest.fixture
def blender(tmp_path: Path) -> GatedBlender:
    return GatedBlender(tmp_path)


def kill(driver: subprocess.Popen[str]) -> None:
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait(10)


def said(driver: subprocess.Popen[str]) -> str:
    assert driver.stdout is not None
    return driver.stdout.readline().strip()


def trail(blender: GatedBlender) -> list[str]:
    path = blender.folder / "trail"
    return path.read_text().split() if path.exists() else []


def test_a_waiting_batch_waits_again_after_a_kill(tmp_path: Path, blender: GatedBlender) -> None:
    start = at("22:00")
    then = """
while not any("Waiting to start" in m for m in service.batch.view().messages):
    time.sleep(0.02)
print(service.batch.status.value, flush=True)
"""
    recipe = blender.recipe(trail=blender.folder / "trail", start_at=start)
    driver = start_service(tmp_path / "work", recipe, store=tmp_path / "store",
                           prepare=on_clock(at("12:00")), then=then)
    try:
        assert said(driver) == "WAITING"
    finally:
        kill(driver)
    clock = ManualClock(at("13:00"))
    with BatchStore.open(tmp_path / "store") as store:
        stored = store.latest()
        assert stored is not None and stored.status is BatchStatus.WAITING
        assert stored.start_at == start
        service = BatchService(RunOptions(clock=clock), work_dir=tmp_path / "work", store=store)
        batch = service.batch
        assert batch is not None and batch.status is BatchStatus.WAITING and service.running
        assert batch.view().starts_at == start
        clock.wait_for_timer(start)
        assert trail(blender) == [] and blender.rendered() == {}
        blender.open(1, 2, 3, 4)
        clock.set(start)
        assert batch.wait(60) and batch.status is BatchStatus.FINISHED
        assert trail(blender) == ["batch", "job"]
        ended = store.load(stored.id)
        assert ended.status is BatchStatus.FINISHED and ended.start_at is None
        service.shutdown()


def test_a_batch_its_window_paused_continues_by_itself_after_a_kill(
        tmp_path: Path, blender: GatedBlender) -> None:
    gates = blender.gates
    then = f"""
batch = service.batch
open({str(gates / "1")!r}, "w").close()
while batch.view().job(0).frames_done < 1:
    time.sleep(0.02)
clock.set({at("06:00", days=1)!r})
open({str(gates / "2")!r}, "w").close()
while not service.paused:
    time.sleep(0.02)
print(batch.view().continues_at, flush=True)
"""
    recipe = blender.recipe(trail=blender.folder / "trail", settings={"window": NIGHT})
    driver = start_service(tmp_path / "work", recipe, store=tmp_path / "store",
                           prepare=on_clock(at("23:00")), then=then)
    try:
        assert float(said(driver)) == at("22:00", days=1)
    finally:
        kill(driver)
    assert blender.rendered() == {1: 1, 2: 1}
    clock = ManualClock(at("12:00", days=1))
    with BatchStore.open(tmp_path / "store") as store:
        stored = store.latest()
        assert stored is not None and stored.status is BatchStatus.PAUSED
        assert stored.paused_by == "window"
        service = BatchService(RunOptions(clock=clock), work_dir=tmp_path / "work", store=store)
        batch = service.batch
        assert batch is not None and service.paused
        poll = batch.snapshot()
        assert poll["status"] == "PAUSED" and poll["continues_at"] == at("22:00", days=1)
        assert clock.wait_for_timer(at("22:00", days=1))
        blender.open(3, 4)
        clock.set(at("22:00", days=1))
        assert batch.wait(60) and batch.status is BatchStatus.FINISHED, batch.view().messages
        assert [job.status for job in batch.view().jobs] == [JobStatus.FINISHED]
        assert blender.rendered() == {1: 1, 2: 1, 3: 1, 4: 1}
        assert trail(blender).count("batch") == 1
        wait_for(lambda: store.load(stored.id).status is BatchStatus.FINISHED, timeout=30)
        service.shutdown()
