"""History that predicts (issue 21), with the real Blender: each run records what its cost
depends on and each frame's own render time; the next, different job of the same file has an
ETA before it starts, scaled from that run; times count rendering only."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.options import RunOptions
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from renderplus.batch.store.run_history import past_runs
from renderplus.batch.view import BatchStatus, JobStatus
from tests.batch.conftest import make_recipe
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]
Factory = Callable[..., Path]


def animation(blend: Path, out: Path, frames: int, **job: Any) -> dict[str, Any]:
    return {"blend_file": str(blend), "animated": True, "frame_start": 1, "frame_end": frames,
            "output": str(out / "f_####"), **job}


def run_to_end(service: BatchService, jobs: list[dict[str, Any]]) -> None:
    service.load_recipe(make_recipe(jobs))
    batch = service.start()
    wait_for(lambda: batch.status in (BatchStatus.FINISHED, BatchStatus.CANCELLED), timeout=180)
    assert batch.status is BatchStatus.FINISHED, batch.view().messages


def test_a_run_records_its_cost_and_each_frames_own_time(tmp_path: Path,
                                                          blend_factory: Factory) -> None:
    blend = blend_factory(size=(64, 48), samples=8, frames=4)
    work = tmp_path / "work"
    service = BatchService(RunOptions(kill_grace=2.0), work_dir=work, store=BatchStore.open(work))
    try:
        run_to_end(service, [animation(blend, tmp_path / "a", 4, cycles={"samples": 16})])
        view = service.view()
        assert view is not None
        job = view.jobs[0]
        assert job.status is JobStatus.FINISHED
        # rendering time: what the job's runs took, within its wall time
        assert job.times.rendertime is not None and job.times.started and job.times.finished
        assert 0 < job.times.rendertime <= job.times.finished - job.times.started + 0.01
    finally:
        service.shutdown(timeout=20)
    store = BatchStore.open(work)
    try:
        runs = past_runs(store, [str(blend)])
    finally:
        store.close()
    assert len(runs) == 1
    run = runs[0]
    facts = run.facts
    assert (facts.engine, facts.width, facts.height, facts.percentage) == ("CYCLES", 64, 48, 100)
    assert facts.samples == 16 and facts.frames == 4 and facts.scene == "Scene"
    assert facts.blender.startswith("3.4") and facts.device == "CPU" and facts.threads >= 1
    assert run.shape_part("own")["samples"] == 8          # the file's own, before the override
    assert run.shape_part("asked")["samples"] == 16
    assert len(run.frame_seconds) == 4 and all(s > 0 for s in run.frame_seconds)
    assert run.startup is not None and run.startup > 0 and run.status == "FINISHED"


def test_a_different_job_has_an_eta_before_it_starts(tmp_path: Path, blend_factory: Factory) -> None:
    blend = blend_factory(size=(64, 48), samples=4, frames=6)
    work = tmp_path / "work"
    service = BatchService(RunOptions(kill_grace=2.0), work_dir=work, store=BatchStore.open(work))
    try:
        run_to_end(service, [animation(blend, tmp_path / "a", 3)])
        # another frame count and samples of the same scene: scaled from that one run; the
        # first job waits in its PRE_JOB hook until the test has read the queued ones' ETAs
        gate = tmp_path / "go"
        hook = {"PRE_JOB": [{"cmd": f"while [ ! -e {gate} ]; do sleep 0.05; done"}]}
        recipe = make_recipe([animation(blend, tmp_path / "b", 2, hooks=hook),
                              animation(blend, tmp_path / "c", 6, cycles={"samples": 8}),
                              animation(tmp_path / "never.blend", tmp_path / "d", 2)])
        service.load_recipe(recipe)
        batch = service.start()
        wait_for(lambda: batch.view().jobs[0].status is JobStatus.RUNNING, timeout=60)
        view = batch.view()
        queued = view.jobs[1]
        assert queued.status is JobStatus.QUEUED
        assert queued.eta_runs == 1 and queued.eta is not None and queued.eta > 0
        assert view.jobs[2].eta is None and view.jobs[2].eta_runs is None  # nothing similar
        assert view.eta is None   # one job's time is unknown: so is the batch's
        gate.touch()
        wait_for(lambda: batch.status in (BatchStatus.FINISHED, BatchStatus.CANCELLED), timeout=180)
    finally:
        service.shutdown(timeout=20)
    conn = sqlite3.connect(work / "renderplus.db")
    try:
        counts = conn.execute("SELECT r.frames, count(f.frame) FROM job_runs r JOIN frame_times f "
                              "ON f.run_id = r.id GROUP BY r.id ORDER BY r.started").fetchall()
    finally:
        conn.close()
    assert counts == [(3, 3), (2, 2), (6, 6)]
