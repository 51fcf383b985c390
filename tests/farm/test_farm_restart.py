"""A Render+ killed -9 while its batch pauses on a farm (real Blender; Slurm, and Flamenco when
``FLAMENCO_BIN`` names its binaries): the next one finds the
batch PAUSED, finishes the pause the dead one left on the farm (the running chunk finishes,
the held ones are cancelled: nothing of the job runs or waits there), and continuing renders only the
missing frames; the frames written before keep their inode and mtime."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.executors.farm import FarmExecutor, FlamencoEngine, SharedStorage, SlurmEngine
from renderplus.batch.recipe import Recipe
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from renderplus.batch.view import BatchStatus, JobStatus
from tests.batch.service_driver import start_service
from tests.farm.slurm_cluster import SlurmCluster
from tests.waiting import wait_for

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]
Factory = Callable[..., Path]
FRAMES = 6


@dataclass
class FarmUnderTest:
    """One farm, as source for the killed Render+'s executor factory and as a factory here;
    ``left(farm_id)``: what of a farm job still runs or waits there ("" when nothing)."""

    source: str
    make: Callable[[Recipe], FarmExecutor]
    left: Callable[[str], str]
    completed: Callable[[str], int]


PREPARE = ("from renderplus.batch.executors.farm import FarmExecutor, FlamencoEngine, "
           "SharedStorage, SlurmEngine")


def on_slurm(cluster: SlurmCluster, shared: Path) -> FarmUnderTest:
    """One chunk of two frames at a time (each takes the node's two CPUs)."""
    engine = (f"SlurmEngine({cluster.partition!r}, conf={str(cluster.conf)!r}, "
              f"blender={shutil.which('blender')!r}, sbatch_args=['--cpus-per-task=2'])")

    def left(farm_id: str) -> str:
        return cluster.run("squeue", "-h", "-j", farm_id, "-o", "%i %T %r").strip()

    def completed(farm_id: str) -> int:
        return cluster.run("scontrol", "show", "job", "-o", farm_id).count("JobState=COMPLETED")
    return FarmUnderTest(_factory(engine, shared), _made(engine, shared), left, completed)


def on_flamenco(url: str, shared: Path) -> FarmUnderTest:
    """The test Manager's one Worker: one chunk at a time."""
    engine = f"FlamencoEngine({url!r})"
    manager = FlamencoEngine(url)

    def tasks(farm_id: str) -> list[dict[str, Any]]:
        answer = manager._call("GET", f"/api/v3/jobs/{farm_id}/tasks")
        return list(answer["tasks"])

    def left(farm_id: str) -> str:
        """Its active tasks, and unless the job has ended its waiting ones and the job itself (a
        paused job's tasks wait for someone to continue it; a cancelled one's stay "paused")."""
        ended = manager._call("GET", f"/api/v3/jobs/{farm_id}")["status"] in (
            "completed", "canceled", "failed")
        waiting = ("active",) if ended else ("active", "queued", "soft-failed", "paused")
        found = [f"{t['name']}:{t['status']}" for t in tasks(farm_id) if t["status"] in waiting]
        return " ".join(found if ended else [*found, "the job has not ended"])

    def completed(farm_id: str) -> int:
        return sum(1 for t in tasks(farm_id) if t["status"] == "completed")
    return FarmUnderTest(_factory(engine, shared), _made(engine, shared), left, completed)


def _factory(engine: str, shared: Path) -> str:
    return (f"lambda recipe: FarmExecutor({engine}, SharedStorage([{str(shared)!r}], "
            f"{str(shared / 'staging')!r}), chunk_size=2, poll_interval=0.3)")


def _made(engine: str, shared: Path) -> Callable[[Recipe], FarmExecutor]:
    """The very factory the killed Render+ ran, made from the same source here."""
    made: Callable[[Recipe], FarmExecutor] = eval(_factory(engine, shared), {
        "FarmExecutor": FarmExecutor, "FlamencoEngine": FlamencoEngine,
        "SharedStorage": SharedStorage, "SlurmEngine": SlurmEngine})
    return made


def recipe_data(blend: Path, out: Path) -> dict[str, Any]:
    return {"version": 2.2, "name": "farm pause", "settings": {},
            "jobs": [{"id": 0, "name": "shot", "blend_file": str(blend), "output": str(out / "f_"),
                      "animated": True, "frame_start": 1, "frame_end": FRAMES}]}


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.png"))}


@pytest.fixture(params=["slurm", "flamenco"])
def farm(request: pytest.FixtureRequest, shared: Path) -> FarmUnderTest:
    if request.param == "slurm":
        return on_slurm(request.getfixturevalue("slurm_cluster"), shared)
    return on_flamenco(request.getfixturevalue("flamenco_manager"), shared)


def killed_while_pausing(farm: FarmUnderTest, shared: Path, blend_factory: Factory,
                         tmp_path: Path) -> tuple[Path, str, dict[str, tuple[int, int]]]:
    """A Render+ with a store at ``tmp_path/work`` pauses its batch "frame" on ``farm`` while
    chunk 0 (frames 1-2) renders, and is killed -9: the work folder, the farm job's id, and
    the frames written then."""
    blend = Path(shutil.copy(blend_factory(size=(160, 120), samples=600, frames=FRAMES), shared))
    out = shared / "out"
    then = """
while service.view().job(0).frames_done < 1:
    time.sleep(0.05)
service.pause("frame")
print("pausing", service.batch.handle(0).farm_id, flush=True)
"""
    work = tmp_path / "work"
    work.mkdir()
    driver = start_service(work, recipe_data(blend, out), then=then, prepare=PREPARE,
                           factory=farm.source)
    assert driver.stdout is not None
    said, farm_id = driver.stdout.readline().split()
    assert said == "pausing"
    assert farm.left(farm_id) and farm.completed(farm_id) == 0   # mid-chunk: frame 2 renders
    before = stamps(out)
    assert list(before) == ["f_0001.png"]
    os.killpg(driver.pid, signal.SIGKILL)                        # Render+ dies, the farm goes on
    driver.wait(10)
    return work, farm_id, before


def test_a_kill_during_a_farm_pause_restarts_paused_with_nothing_on_the_farm(
        farm: FarmUnderTest, shared: Path, blend_factory: Factory, tmp_path: Path) -> None:
    work, farm_id, before = killed_while_pausing(farm, shared, blend_factory, tmp_path)
    out = shared / "out"
    service = BatchService(work_dir=work, store=BatchStore.open(work), executor_factory=farm.make)
    view = service.view()
    assert view is not None and view.status is BatchStatus.PAUSED and service.paused
    assert view.job(0).status is JobStatus.QUEUED
    wait_for(lambda: farm.left(farm_id) == "", timeout=150)              # nothing left
    assert farm.completed(farm_id) == 1                                   # chunk 0 finished
    batch = service.batch
    assert batch is not None
    wait_for(lambda: any("pause on the farm has ended" in m for m in batch.view().messages),
             timeout=30)
    paused = stamps(out)
    assert list(paused) == ["f_0001.png", "f_0002.png"] and paused["f_0001.png"] == before["f_0001.png"]
    assert batch.status is BatchStatus.PAUSED                              # still, until resumed

    assert service.resume() is batch
    assert batch.wait(240)
    snap = batch.snapshot()
    assert snap["status"] == "FINISHED", snap["jobs"][0]["messages"]
    after = stamps(out)
    assert list(after) == [f"f_000{i}.png" for i in range(1, FRAMES + 1)]
    assert {name: after[name] for name in paused} == paused                # not rendered again
    second = batch.handle(0)
    assert second is not None and second.farm_id not in (None, farm_id)
    assert farm.completed(str(second.farm_id)) == 2                        # frames 3-4 and 5-6 only
    assert farm.left(str(second.farm_id)) == ""


def test_continuing_at_once_after_the_restart_waits_for_the_farm_pause_to_end(
        slurm_cluster: SlurmCluster, shared: Path, blend_factory: Factory, tmp_path: Path) -> None:
    farm = on_slurm(slurm_cluster, shared)
    work, farm_id, before = killed_while_pausing(farm, shared, blend_factory, tmp_path)
    service = BatchService(work_dir=work, store=BatchStore.open(work), executor_factory=farm.make)
    batch = service.resume()                          # chunk 0 still renders frame 2 on the farm
    messages = wait_for(lambda: [m for m in batch.view().messages if "Waiting for the pause" in m],
                        timeout=30)
    assert "job(s) [0]" in messages[0]
    assert batch.wait(300)
    snap = batch.snapshot()
    assert snap["status"] == "FINISHED", snap["jobs"][0]["messages"]
    assert farm.completed(farm_id) == 1 and farm.left(farm_id) == ""     # chunk 0, nothing else
    after = stamps(shared / "out")
    assert list(after) == [f"f_000{i}.png" for i in range(1, FRAMES + 1)]
    assert after["f_0001.png"] == before["f_0001.png"]
    second = batch.handle(0)
    assert second is not None and second.farm_id not in (None, farm_id)
    assert farm.completed(str(second.farm_id)) == 2   # frames 3-6: frame 2 was not rendered twice
    assert any("Kept 1 frame(s)" in m for m in snap["jobs"][0]["messages"])
