"""A batch rendered through a real farm with real Blender, driven by the real runner: the same
poll JSON as a local run, cancel, a task cancelled from outside, a restarted Render+, and a
.blend whose texture lies outside shared storage (packed by BAT)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.command import build_command, write_override_config
from renderplus.batch.executors import ExecEvent, Exited, FramesWritten, JobLaunch, Started
from renderplus.batch.executors.local import ProcessExecutor
from renderplus.batch.recipe import Recipe
from renderplus.batch.runner import Batch, RunOptions
from tests.batch.conftest import make_recipe
from tests.farm.blends import make_textured_blend, pixel_at_centre
from tests.farm.conftest import Farm
from tests.procs import processes_with
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(120)
Factory = Callable[..., Path]


def copy_blend(blend: Path, folder: Path) -> Path:
    target = folder / blend.name
    shutil.copyfile(blend, target)
    return target


def rendering(batch: Batch, job: int) -> bool:
    entry = batch.view().job(job).to_json()
    return entry["status"] == "RUNNING" and bool((entry["engine"]["data"] or {}).get("samples_done"))


def comparable(entry: dict[str, Any]) -> dict[str, Any]:
    return {"status": entry["status"], "progress": entry["progress"],
            "frames_done": entry["frames_done"], "frames_total": entry["frames_total"],
            # the same files; a farm's chunks may finish out of order, so not the same order
            "outputs": sorted(Path(p).name for p in entry["outputs"]),
            "engine": entry["engine"]["type"],
            "messages": [m for m in entry["messages"] if not m.startswith("waiting in ")]}


def three_jobs(blend: Path, out: Path) -> Recipe:
    return make_recipe([
        {"blend_file": str(blend), "output": str(out / "still")},
        {"blend_file": str(blend), "output": str(out / "anim"), "animated": True,
         "frame_start": 1, "frame_end": 5},
        {"blend_file": str(blend), "output": str(out / "third"), "frame_still": 3},
    ], settings={"farm_chunk": 2})


def test_three_jobs_match_a_local_run(farm: Farm, shared: Path, blend_factory: Factory) -> None:
    blend = copy_blend(blend_factory(), shared)
    (shared / "local").mkdir()
    local = Batch(three_jobs(blend, shared / "local"), RunOptions(), executor=ProcessExecutor(1))
    assert local.run() == "FINISHED"
    executor = farm.executor(shared, chunk_size=2)
    batch = Batch(three_jobs(blend, shared / "farm"), RunOptions(), executor=executor)
    assert batch.run() == "FINISHED"
    farm_snap, local_snap = batch.snapshot(), local.snapshot()
    assert [comparable(j) for j in farm_snap["jobs"]] == [comparable(j) for j in local_snap["jobs"]]
    for entry in farm_snap["jobs"]:
        assert entry["status"] == "FINISHED" and entry["progress"] == 100
        assert all(Path(p).is_relative_to(shared / "farm") and Path(p).stat().st_size > 0
                   for p in entry["outputs"])
        times = entry["times"]
        assert times["started"] < times["finished"]
        # rendering only: the time its tasks waited in the farm's queue does not count
        assert 0 < times["rendertime"] <= times["finished"] - times["started"] + 1e-6
    # every frame at its path; in the order chunks finished, which need not be frame order
    assert sorted(farm_snap["jobs"][1]["outputs"]) == [str(shared / "farm" / f"anim_000{i}.png")
                                                       for i in range(1, 6)]
    handle = batch.handle(1)
    assert handle is not None and handle.farm_id and handle.executor == f"farm:{farm.kind}"
    if farm.cluster is not None:  # one farm job, its five frames in three chunks
        states = farm.cluster.run("scontrol", "show", "job", "-o", handle.farm_id)
        assert states.count("JobState=COMPLETED") == 3


@pytest.mark.timeout(180)
def test_cancel_mid_job_leaves_no_blender(farm: Farm, shared: Path, blend_factory: Factory) -> None:
    blend = copy_blend(blend_factory(size=(320, 240), samples=4000, frames=3), shared)
    recipe = make_recipe([{"blend_file": str(blend), "output": str(shared / "slow"),
                           "animated": True, "frame_start": 1, "frame_end": 3}])
    executor = farm.executor(shared, chunk_size=2)
    batch = Batch(recipe, RunOptions(), executor=executor)
    batch.start()
    # A Flamenco Worker that just ended a task asks for work again only 20 s later, and sends
    # a quiet task's log every 30 s: the first sample may show up to a minute after the start.
    wait_for(lambda: rendering(batch, 0), timeout=100)
    handle = batch.handle(0)
    assert handle is not None and handle.farm_id
    assert batch.cancel()
    assert batch.wait(45)
    snap = batch.snapshot()
    assert snap["status"] == "CANCELLED"
    assert snap["jobs"][0]["status"] == "CANCELLED" and snap["jobs"][0]["outputs"] == []
    wait_for(lambda: not processes_with(str(shared / "staging")), timeout=15)
    if farm.cluster is not None:
        states = farm.cluster.run("scontrol", "show", "job", "-o", handle.farm_id)
        assert "JobState=CANCELLED" in states and "JobState=RUNNING" not in states


@pytest.mark.parametrize("farm", ["slurm"], indirect=True)
def test_task_cancelled_outside_render_plus_fails_the_job(farm: Farm, shared: Path,
                                                           blend_factory: Factory) -> None:
    assert farm.cluster is not None
    blend = copy_blend(blend_factory(size=(320, 240), samples=4000, frames=3), shared)
    recipe = make_recipe([{"blend_file": str(blend), "output": str(shared / "slow"),
                           "animated": True, "frame_start": 1, "frame_end": 4}])
    batch = Batch(recipe, RunOptions(), executor=farm.executor(shared, chunk_size=2))
    batch.start()
    wait_for(lambda: rendering(batch, 0))
    handle = batch.handle(0)
    assert handle is not None and handle.farm_id
    farm.cluster.run("scancel", f"{handle.farm_id}_0")   # an operator, not Render+
    assert batch.wait(45)
    job = batch.snapshot()["jobs"][0]
    assert job["status"] == "FAILED"
    assert any("cancelled on the farm by someone other than Render+" in m and "chunk 0" in m
               and "CANCELLED AT" in m for m in job["messages"]), job["messages"]
    assert batch.handle(0) == handle   # the job ran once: not retried
    wait_for(lambda: not processes_with(str(shared / "staging")), timeout=15)


def launch_for(recipe: Recipe, job_id: int, workdir: Path) -> JobLaunch:
    """What the runner hands an executor for a job (runner._submit, without a batch)."""
    job = recipe.jobs[job_id]
    config = workdir / f"renderplus_job{job_id}.json"
    write_override_config(recipe, job, str(config))
    blender = shutil.which("blender") or "blender"
    command = build_command(recipe, job, blender_bin=blender, config_path=str(config))
    return JobLaunch(job_id, command, dict(os.environ), str(workdir))


def test_restarted_render_plus_reattaches(farm: Farm, shared: Path, blend_factory: Factory,
                                          tmp_path: Path) -> None:
    blend = copy_blend(blend_factory(), shared)
    recipe = make_recipe([{"blend_file": str(blend), "output": str(shared / "re"),
                           "animated": True, "frame_start": 1, "frame_end": 3}])
    before: list[ExecEvent] = []
    first = farm.executor(shared, chunk_size=1)
    handle = first.submit(launch_for(recipe, 0, tmp_path), before.append)
    wait_for(lambda: any(isinstance(e, Started) for e in before))
    first.detach()                                   # Render+ goes away; the farm goes on
    seen_before = len(before)
    after: list[ExecEvent] = []
    second = farm.executor(shared, chunk_size=1)     # a new Render+, from the durable handle
    second.reattach(type(handle).from_json(handle.to_json()), after.append)
    wait_for(lambda: any(isinstance(e, Exited) for e in after), timeout=60)
    exited = [e for e in after if isinstance(e, Exited)]
    assert len(exited) == 1 and exited[0].returncode == 0 and not exited[0].cancelled
    frames = sorted(f for e in after if isinstance(e, FramesWritten) for f in e.frames)
    assert frames == [1, 2, 3]
    assert len(before) == seen_before                # the detached executor says nothing more
    assert sorted(p.name for p in shared.glob("re_*.png")) == [f"re_000{i}.png" for i in range(1, 4)]


class TextureMovingEngine:
    """Delegates to the farm's engine; once the job is packed, moves the original texture away
    so only the packed copy can give the render its colour."""

    def __init__(self, engine: Any, texture: Path) -> None:
        self._engine, self._texture = engine, texture

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def submit(self, spec: Any) -> str:
        self._texture.rename(self._texture.with_suffix(".moved"))
        return str(self._engine.submit(spec))


def test_relative_texture_outside_shared_storage_is_packed(farm: Farm, shared: Path,
                                                           tmp_path: Path) -> None:
    if shutil.which("blender") is None:
        pytest.skip("the blender executable is not installed")
    local = tmp_path / "local"        # not shared: nodes could not see it
    blend, texture = make_textured_blend(local)
    recipe = make_recipe([{"blend_file": str(blend), "output": str(shared / "tex"),
                           "format": "BMP"}])
    executor = farm.executor(shared)
    executor.engine = TextureMovingEngine(executor.engine, texture)
    executor._watch.engine = executor.engine
    batch = Batch(recipe, RunOptions(), executor=executor)
    assert batch.run() == "FINISHED", batch.snapshot()["jobs"][0]["messages"]
    output = batch.snapshot()["jobs"][0]["outputs"]
    assert len(output) == 1, "\n".join(batch.snapshot()["jobs"][0]["messages"])
    red, green, blue = pixel_at_centre(output[0])
    assert red > 200 and green < 40 and blue < 40       # the texture's red, not Blender's pink
    assert list((shared / "staging").rglob("packed/**/red.png"))
