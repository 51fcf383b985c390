"""Pausing a farm job on a real farm with real Blender, at the executor: Slurm holds the pending
chunks and lets the running one finish ("frame"), or cancels the job ("now"); what finished
stays on disk untouched, and a second submission of the missing frames renders only those.
Flamenco's pause-requested when ``FLAMENCO_BIN`` names its binaries."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.command import build_command, write_override_config
from renderplus.batch.executors import ExecEvent, Exited, FramesWritten, JobLaunch, Started
from renderplus.batch.executors.farm import (
    FarmExecutor,
    FarmFate,
    FlamencoEngine,
    SharedStorage,
    SlurmEngine,
)
from renderplus.batch.frames import FrameSet
from renderplus.batch.recipe import Recipe
from renderplus.batch.runner import Batch, RunOptions
from tests.batch.conftest import make_recipe
from tests.farm.slurm_cluster import SlurmCluster
from tests.procs import processes_with
from tests.waiting import wait_for

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]
Factory = Callable[..., Path]


def animation(blend: Path, out: Path, last: int) -> Recipe:
    return make_recipe([{"blend_file": str(blend), "output": str(out / "f_"), "animated": True,
                         "frame_start": 1, "frame_end": last}])


def launch(recipe: Recipe, frames: str, workdir: Path) -> JobLaunch:
    """What the runner hands an executor for job 0, rendering only ``frames`` (a resume)."""
    workdir.mkdir(parents=True, exist_ok=True)
    job, wanted = recipe.jobs[0], FrameSet.parse(frames)
    config = workdir / "renderplus_job0.json"
    write_override_config(recipe, job, str(config), wanted)
    command = build_command(recipe, job, blender_bin=shutil.which("blender") or "blender",
                            config_path=str(config), frames=wanted)
    return JobLaunch(0, command, dict(os.environ), str(workdir))


def one_chunk_at_a_time(cluster: SlurmCluster, shared: Path, chunk_size: int) -> FarmExecutor:
    """Each chunk takes the node's two CPUs: the next waits PENDING while one runs."""
    engine = SlurmEngine(cluster.partition, conf=str(cluster.conf), blender=shutil.which("blender"),
                         sbatch_args=["--cpus-per-task=2"])
    return FarmExecutor(engine, SharedStorage([str(shared)], str(shared / "staging")),
                        chunk_size=chunk_size, poll_interval=0.3)


def the_exit(events: list[ExecEvent], timeout: float = 120) -> Exited:
    exits = wait_for(lambda: [e for e in events if isinstance(e, Exited)], timeout=timeout)
    assert len(exits) == 1
    return exits[0]


def frames_written(events: list[ExecEvent]) -> list[int]:
    return sorted(f for e in events if isinstance(e, FramesWritten) for f in e.frames)


def stamps(paths: list[Path]) -> list[tuple[int, int]]:
    return [(p.stat().st_ino, p.stat().st_mtime_ns) for p in paths]


def squeue(cluster: SlurmCluster, farm_id: str) -> str:
    return cluster.run("squeue", "-h", "-j", farm_id, "-o", "%i %T %r").strip()


def test_slurm_frame_pause_finishes_the_running_chunk_and_starts_no_other(
        slurm_cluster: SlurmCluster, shared: Path, blend_factory: Factory, tmp_path: Path) -> None:
    blend = shutil.copy(blend_factory(size=(160, 120), samples=600, frames=6), shared)
    recipe = animation(Path(blend), shared / "out", 6)
    executor = one_chunk_at_a_time(slurm_cluster, shared, chunk_size=2)
    events: list[ExecEvent] = []
    handle = executor.submit(launch(recipe, "1-6", tmp_path / "first"), events.append)
    assert handle.farm_id
    wait_for(lambda: any(isinstance(e, Started) for e in events), timeout=60)
    assert "_0 RUNNING" in squeue(slurm_cluster, handle.farm_id)   # chunk 0 renders
    assert executor.pause(0, "frame", 5.0)
    exited = the_exit(events)
    assert exited.paused and not exited.cancelled and not exited.final, exited
    assert frames_written(events) == [1, 2]                      # the running chunk finished
    assert sorted(p.name for p in (shared / "out").iterdir()) == ["f_0001.png", "f_0002.png"]
    assert squeue(slurm_cluster, handle.farm_id) == ""           # nothing runs or waits
    states = slurm_cluster.run("scontrol", "show", "job", "-o", handle.farm_id)
    assert "ArrayTaskId=0 " in states and "JobState=COMPLETED" in states
    assert "ArrayTaskId=1-2 " in states and "JobState=CANCELLED" in states
    folder = Path(next((shared / "staging" / "jobs").iterdir()))
    assert not (folder / "task-1.log").exists() and not (folder / "task-2.log").exists()  # never ran
    assert executor.fate(handle) is FarmFate.PAUSED
    done = [shared / "out" / "f_0001.png", shared / "out" / "f_0002.png"]
    before = stamps(done)

    again: list[ExecEvent] = []                                   # a resume: the missing frames
    second = executor.submit(launch(recipe, "3-6", tmp_path / "again"), again.append)
    exited = the_exit(again)
    assert exited.returncode == 0 and not exited.paused
    assert frames_written(again) == [3, 4, 5, 6]
    assert second.farm_id != handle.farm_id
    assert slurm_cluster.run("scontrol", "show", "job", "-o", str(second.farm_id)).count(
        "JobState=COMPLETED") == 2                                # two chunks: 3-4, 5-6
    assert stamps(done) == before                                 # not rendered again
    assert sorted(p.name for p in (shared / "out").iterdir()) == [f"f_000{i}.png" for i in range(1, 7)]


def test_slurm_now_pause_cancels_everything_and_keeps_finished_frames(
        slurm_cluster: SlurmCluster, shared: Path, blend_factory: Factory, tmp_path: Path) -> None:
    blend = shutil.copy(blend_factory(size=(160, 120), samples=600, frames=4), shared)
    recipe = animation(Path(blend), shared / "out", 4)
    executor = one_chunk_at_a_time(slurm_cluster, shared, chunk_size=1)
    events: list[ExecEvent] = []
    handle = executor.submit(launch(recipe, "1-4", tmp_path / "first"), events.append)
    assert handle.farm_id
    farm_id = handle.farm_id
    wait_for(lambda: "_1 RUNNING" in squeue(slurm_cluster, farm_id), timeout=60)  # chunk 0 done
    finished = shared / "out" / "f_0001.png"
    before = stamps([finished])
    assert executor.pause(0, "now", 5.0)
    exited = the_exit(events)
    assert exited.paused and not exited.cancelled and exited.returncode != 0, exited
    assert squeue(slurm_cluster, farm_id) == ""
    wait_for(lambda: not processes_with(str(shared / "staging")), timeout=20)   # no Blender left
    assert stamps([finished]) == before
    written = frames_written(events)
    assert 1 in written and 4 not in written
    assert executor.fate(handle) is FarmFate.PAUSED

    missing = ",".join(str(f) for f in range(1, 5) if f not in written)
    again: list[ExecEvent] = []
    executor.submit(launch(recipe, missing, tmp_path / "again"), again.append)
    assert the_exit(again).returncode == 0
    assert frames_written(again) == [int(f) for f in missing.split(",")]
    assert stamps([finished]) == before


@pytest.mark.parametrize("when", ["frame", "now"])
def test_a_batch_on_slurm_pauses_and_continues_in_place(
        when: str, slurm_cluster: SlurmCluster, shared: Path, blend_factory: Factory) -> None:
    """The runner's pause through the farm executor: PAUSED with nothing left in squeue, the
    job QUEUED with its frames kept; continuing renders only the missing frames."""
    if not hasattr(Batch, "pause"):
        pytest.skip("the batch-level pause (Batch.pause) is not in this tree")
    blend = shutil.copy(blend_factory(size=(160, 120), samples=600, frames=4), shared)
    recipe = animation(Path(blend), shared / "out", 4)
    # Any: Batch.pause / resume_paused come with the batch-level pause (docs/engine-api.md)
    batch: Any = Batch(recipe, RunOptions(), executor=one_chunk_at_a_time(slurm_cluster, shared, 2))
    batch.start()
    handle = wait_for(lambda: batch.handle(0), timeout=60)
    assert handle.farm_id
    wait_for(lambda: "_0 RUNNING" in squeue(slurm_cluster, str(handle.farm_id)), timeout=60)
    assert batch.pause(when)
    wait_for(lambda: batch.snapshot()["status"] == "PAUSED", timeout=120)
    job = batch.snapshot()["jobs"][0]
    assert job["status"] == "QUEUED", job["messages"]
    assert squeue(slurm_cluster, handle.farm_id) == ""
    done = sorted(Path(p) for p in job["outputs"])
    if when == "frame":
        assert [p.name for p in done] == ["f_0001.png", "f_0002.png"]
    before = stamps(done)
    assert batch.resume_paused()
    assert batch.wait(120)
    snap = batch.snapshot()
    assert snap["status"] == "FINISHED", snap["jobs"][0]["messages"]
    assert sorted(Path(p).name for p in snap["jobs"][0]["outputs"]) == [
        f"f_000{i}.png" for i in range(1, 5)]
    assert stamps(done) == before                               # not rendered again
    assert batch.handle(0) != handle                            # a second farm job: the rest


def test_slurm_pause_goes_on_after_render_plus_restarts(
        slurm_cluster: SlurmCluster, shared: Path, blend_factory: Factory, tmp_path: Path) -> None:
    """Render+ dies right after asking: the farm job is held with chunk 0 running. The next
    Render+ learns from the handle that it is pausing, not lost, and re-attaching finishes it."""
    blend = shutil.copy(blend_factory(size=(160, 120), samples=600, frames=6), shared)
    recipe = animation(Path(blend), shared / "out", 6)
    first = one_chunk_at_a_time(slurm_cluster, shared, chunk_size=2)
    events: list[ExecEvent] = []
    handle = first.submit(launch(recipe, "1-6", tmp_path / "first"), events.append)
    assert handle.farm_id
    wait_for(lambda: any(isinstance(e, Started) for e in events), timeout=60)
    assert first.pause(0, "frame", 5.0)
    first.detach()                                    # gone, as after a kill -9
    assert "JobHeld" in squeue(slurm_cluster, handle.farm_id)
    second = one_chunk_at_a_time(slurm_cluster, shared, chunk_size=2)
    stored = type(handle).from_json(handle.to_json())
    assert second.fate(stored) is FarmFate.PAUSING
    after: list[ExecEvent] = []
    second.reattach(stored, after.append)
    exited = the_exit(after)
    assert exited.paused and frames_written(after) == [1, 2]
    assert squeue(slurm_cluster, handle.farm_id) == ""
    assert second.fate(stored) is FarmFate.PAUSED
    assert sorted(p.name for p in (shared / "out").iterdir()) == ["f_0001.png", "f_0002.png"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("when", ["frame", "now"])
def test_flamenco_pause(when: str, flamenco_manager: str, shared: Path, blend_factory: Factory,
                        tmp_path: Path) -> None:
    """"frame": pause-requested, the active chunk finishes; "now": cancel-requested. Either way
    the job ends paused, with nothing of it left queued on the Manager."""
    blend = shutil.copy(blend_factory(size=(160, 120), samples=300, frames=4), shared)
    recipe = animation(Path(blend), shared / "out", 4)
    engine = FlamencoEngine(flamenco_manager)
    executor = FarmExecutor(engine, SharedStorage([str(shared)], str(shared / "staging")),
                            chunk_size=2, poll_interval=0.3)
    events: list[ExecEvent] = []
    handle = executor.submit(launch(recipe, "1-4", tmp_path / "first"), events.append)
    assert handle.farm_id
    wait_for(lambda: any(isinstance(e, Started) for e in events), timeout=90)
    assert executor.pause(0, when, 5.0)
    exited = the_exit(events, timeout=150)
    assert exited.paused and not exited.cancelled, exited
    job = engine._call("GET", f"/api/v3/jobs/{handle.farm_id}")
    assert job["status"] in ("canceled", "paused"), job
    tasks = engine._call("GET", f"/api/v3/jobs/{handle.farm_id}/tasks")["tasks"]
    assert not [t for t in tasks if t["status"] in ("queued", "active")], tasks
    if when == "frame":
        assert frames_written(events) == [1, 2]
        assert sorted(p.name for p in (shared / "out").iterdir()) == ["f_0001.png", "f_0002.png"]
    else:
        assert 3 not in frames_written(events)
    assert executor.fate(handle) is FarmFate.PAUSED
    # "now": the Worker kills its Blender at its next check-in; leave the farm idle
    wait_for(lambda: not processes_with(str(shared / "staging")), timeout=30)
