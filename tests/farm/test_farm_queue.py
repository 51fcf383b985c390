"""Changing a batch that renders on Slurm, and the queue of batches with a Slurm executor, with
real Blender: a job added while the batch renders and moved to run next is the next farm job
submitted; two queued batches render on the farm one after the other."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.executors.farm import FarmExecutor, SharedStorage, SlurmEngine
from renderplus.batch.recipe import Recipe, parse_recipe
from renderplus.batch.runner import Batch, RunOptions
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from renderplus.batch.view import BatchStatus, JobStatus
from tests.farm.slurm_cluster import SlurmCluster
from tests.waiting import wait_for

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]
Factory = Callable[..., Path]


def slurm_executor(cluster: SlurmCluster, shared: Path, max_jobs: int = 16) -> FarmExecutor:
    engine = SlurmEngine(cluster.partition, conf=str(cluster.conf), blender=shutil.which("blender"))
    return FarmExecutor(engine, SharedStorage([str(shared)], str(shared / "staging")),
                        chunk_size=2, max_jobs=max_jobs, poll_interval=0.3)


def job(blend: Path, out: Path, name: str, frames: int) -> dict[str, Any]:
    return {"name": name, "blend_file": str(blend), "output": str(out / f"{name}_"),
            "animated": True, "frame_start": 1, "frame_end": frames}


def farm_id(batch: Batch, job_id: int) -> int:
    handle = batch.handle(job_id)
    assert handle is not None and handle.farm_id is not None
    return int(handle.farm_id)


def test_a_job_added_while_the_batch_renders_on_slurm_and_moved_next_is_submitted_next(
        slurm_cluster: SlurmCluster, shared: Path, blend_factory: Factory) -> None:
    blend = Path(shutil.copy(blend_factory(size=(96, 72), samples=200, frames=4), shared))
    out = shared / "out"
    recipe_data: dict[str, Any] = {"version": 2.2, "name": "farm edits", "jobs": [
        {"id": 0, **job(blend, out, "first", 4)}, {"id": 1, **job(blend, out, "second", 2)}]}
    # one farm job at a time: the rest wait in Render+'s run order, where a move counts
    batch = Batch(parse_recipe(recipe_data), RunOptions(),
                  executor=slurm_executor(slurm_cluster, shared, max_jobs=1))
    batch.start()
    wait_for(lambda: batch.handle(0), timeout=60)
    assert batch.view().job(1).status is JobStatus.QUEUED
    [added] = batch.add_jobs(job(blend, out, "added", 2))
    assert added == 2
    batch.move_job(added, 0)
    assert batch.view().order == (0, 2, 1)
    assert batch.wait(240)
    view = batch.view()
    assert view.status is BatchStatus.FINISHED, [j.messages for j in view.jobs]
    assert [j.status for j in view.jobs] == [JobStatus.FINISHED] * 3
    assert farm_id(batch, 0) < farm_id(batch, 2) < farm_id(batch, 1)   # submitted in that order
    started = [view.job(i).times.started for i in (0, 2, 1)]
    assert None not in started and started == sorted(started)          # type: ignore[type-var]
    assert view.order == (0, 2, 1)
    assert sorted(p.name for p in out.glob("added_*.png")) == ["added_0001.png", "added_0002.png"]


def test_two_queued_batches_render_on_slurm_one_after_the_other(
        slurm_cluster: SlurmCluster, shared: Path, blend_factory: Factory, tmp_path: Path) -> None:
    blend = Path(shutil.copy(blend_factory(size=(96, 72), samples=100, frames=2), shared))
    out = shared / "out"

    def recipe(name: str) -> Recipe:
        return parse_recipe({"version": 2.2, "name": name, "jobs": [
            {"id": 0, **job(blend, out, name, 2)}]})
    executors: list[FarmExecutor] = []

    def factory(recipe: Recipe) -> FarmExecutor:
        executors.append(slurm_executor(slurm_cluster, shared))
        return executors[-1]
    work = tmp_path / "work"
    service = BatchService(RunOptions(), work_dir=work, store=BatchStore.open(work),
                           executor_factory=factory)
    try:
        service.enqueue(recipe("one"))
        service.enqueue(recipe("two"))
        first = service.batch
        assert first is not None and first.recipe.name == "one"
        assert [e.name for e in service.queue_view().entries] == ["two"]
        assert first.wait(180)
        wait_for(lambda: service.batch is not first, timeout=30)
        second = service.batch
        assert second is not None and second.recipe.name == "two"
        assert second.wait(180)
        for batch in (first, second):
            view = batch.view()
            assert view.status is BatchStatus.FINISHED and view.jobs[0].status is JobStatus.FINISHED, \
                view.jobs[0].messages
        assert farm_id(first, 0) < farm_id(second, 0)
        start_two, end_one = second.view().times.started, first.view().times.finished
        assert start_two is not None and end_one is not None and start_two >= end_one
        assert sorted(p.name for p in out.glob("*.png")) == [
            "one_0001.png", "one_0002.png", "two_0001.png", "two_0002.png"]
        assert service.queue_view().entries == ()
        assert len(executors) == 2                      # each batch its own farm executor
        for batch in (first, second):
            assert slurm_cluster.run("squeue", "-h", "-j", str(farm_id(batch, 0))).strip() == ""
    finally:
        service.shutdown(timeout=30)
