"""A Render+ killed -9 while its batch pauses on Slurm (real Blender): the next one finds the
batch PAUSED, finishes the pause the dead one left on the farm (the running chunk finishes,
the held ones are cancelled: nothing stays in squeue), and continuing renders only the
missing frames; the frames written before keep their inode and mtime."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.executors.farm import FarmExecutor, SharedStorage, SlurmEngine
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


def slurm_factory(cluster: SlurmCluster, shared: Path) -> str:
    """The executor factory's source for the service in the child process: one chunk of two
    frames at a time (each takes the node's two CPUs)."""
    return (f"lambda recipe: FarmExecutor(SlurmEngine({cluster.partition!r}, conf={str(cluster.conf)!r}, "
            f"blender={shutil.which('blender')!r}, sbatch_args=['--cpus-per-task=2']), "
            f"SharedStorage([{str(shared)!r}], {str(shared / 'staging')!r}), chunk_size=2, "
            "poll_interval=0.3)")


PREPARE = "from renderplus.batch.executors.farm import FarmExecutor, SharedStorage, SlurmEngine"


def executor_factory(cluster: SlurmCluster, shared: Path) -> Callable[[Recipe], FarmExecutor]:
    def make(recipe: Recipe) -> FarmExecutor:
        engine = SlurmEngine(cluster.partition, conf=str(cluster.conf),
                             blender=shutil.which("blender"), sbatch_args=["--cpus-per-task=2"])
        return FarmExecutor(engine, SharedStorage([str(shared)], str(shared / "staging")),
                            chunk_size=2, poll_interval=0.3)
    return make


def recipe_data(blend: Path, out: Path) -> dict[str, Any]:
    return {"version": 2.2, "name": "farm pause", "settings": {},
            "jobs": [{"id": 0, "name": "shot", "blend_file": str(blend), "output": str(out / "f_"),
                      "animated": True, "frame_start": 1, "frame_end": FRAMES}]}


def squeue(cluster: SlurmCluster, farm_id: str) -> str:
    return cluster.run("squeue", "-h", "-j", farm_id, "-o", "%i %T %r").strip()


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.png"))}


def test_a_kill_during_a_slurm_pause_restarts_paused_with_nothing_on_the_farm(
        slurm_cluster: SlurmCluster, shared: Path, blend_factory: Factory, tmp_path: Path) -> None:
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
                           factory=slurm_factory(slurm_cluster, shared))
    assert driver.stdout is not None
    said, farm_id = driver.stdout.readline().split()
    assert said == "pausing"
    assert "_0 RUNNING" in squeue(slurm_cluster, farm_id)       # mid-chunk: frame 2 renders
    before = stamps(out)
    assert list(before) == ["f_0001.png"]
    os.killpg(driver.pid, signal.SIGKILL)                        # Render+ dies, the farm goes on
    driver.wait(10)

    service = BatchService(work_dir=work, store=BatchStore.open(work),
                           executor_factory=executor_factory(slurm_cluster, shared))
    view = service.view()
    assert view is not None and view.status is BatchStatus.PAUSED and service.paused
    assert view.job(0).status is JobStatus.QUEUED
    wait_for(lambda: squeue(slurm_cluster, farm_id) == "", timeout=120)   # nothing left
    states = slurm_cluster.run("scontrol", "show", "job", "-o", farm_id)
    assert "ArrayTaskId=0 " in states and "JobState=COMPLETED" in states   # chunk 0 finished
    assert "JobState=CANCELLED" in states                                  # the held ones
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
    rendered = slurm_cluster.run("scontrol", "show", "job", "-o", str(second.farm_id))
    assert rendered.count("JobState=COMPLETED") == 2                       # frames 3-4 and 5-6 only
    assert squeue(slurm_cluster, str(second.farm_id)) == ""
