"""Frames checked on the farm's node (recipe key ``validate``), on a real Slurm cluster with real
Blender: a task checks the frames it wrote right after its Blender, and the job loop takes the
node's verdict. The farm's Blender is a wrapper that truncates frame 2 on the node right after
the real Blender wrote it (tests/batch/frame_faults.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.executors.farm import FarmExecutor, SharedStorage, SlurmEngine, tasks
from renderplus.batch.frame_checker import CheckRequest, FrameChecks
from renderplus.batch.markers import MARKER_PREFIX
from renderplus.batch.runner import Batch, RunOptions
from tests.batch.conftest import make_recipe
from tests.batch.frame_faults import damaged_count, damaging_blender
from tests.farm.conftest import Farm
from tests.farm.slurm_cluster import SlurmCluster
from tests.farm.test_farm_render import rendering
from tests.procs import processes_with
from tests.waiting import wait_for

pytestmark = [pytest.mark.timeout(240), pytest.mark.blender]
Factory = Callable[..., Path]


def node_verdicts(staging: Path) -> list[dict[str, object]]:
    """Every ``frame_checked`` marker the farm's tasks wrote into their logs."""
    found = []
    for log in sorted(staging.rglob("task-*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith(MARKER_PREFIX) and '"frame_checked"' in line:
                found.append(json.loads(line[len(MARKER_PREFIX):]))
    return found


@pytest.fixture
def local_checks(monkeypatch: pytest.MonkeyPatch) -> list[CheckRequest]:
    """The frames Render+ itself was asked to check (the node's verdicts ask none)."""
    asked: list[CheckRequest] = []
    real = FrameChecks.ask

    def ask(self: FrameChecks, request: CheckRequest) -> None:
        if request.paths:
            asked.append(request)
        real(self, request)

    monkeypatch.setattr(FrameChecks, "ask", ask)
    return asked


def run_on_slurm(cluster: SlurmCluster, shared: Path, blend: Path, blender: str) -> Batch:
    recipe = make_recipe([{"blend_file": str(blend), "output": str(shared / "out" / "f_####"),
                           "format": "PNG", "frames": "1-3"}],
                         settings={"validate": {"decode": True}})
    engine = SlurmEngine(cluster.partition, conf=str(cluster.conf), blender=blender)
    storage = SharedStorage([str(shared)], str(shared / "staging"))
    executor = FarmExecutor(engine, storage, chunk_size=2, poll_interval=0.3, recipe=recipe)
    batch = Batch(recipe, RunOptions(), executor=executor)
    batch.run()
    return batch


def frames_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_frame_truncated_on_the_node_is_named_there_and_renders_once_more(
        slurm_cluster: SlurmCluster, shared: Path, blend_factory: Factory,
        local_checks: list[CheckRequest]) -> None:
    blend = blend_factory(frames=3, samples=1)
    blender = damaging_blender(shared / "bin", frame=2, mode="truncate", times=1)
    batch = run_on_slurm(slurm_cluster, shared, blend, blender)
    job = batch.view().job(0)
    assert job.status == "FINISHED", job.messages
    assert local_checks == []     # the node's verdicts were taken: nothing checked twice
    assert damaged_count(shared / "bin", "truncate", 2) == 1
    verdicts = node_verdicts(shared / "staging")
    bad = [v for v in verdicts if v["problem"]]
    assert [(v["frame"], Path(str(v["path"])).name) for v in bad] == [(2, "f_0002.png")], verdicts
    # every frame judged on a node: the three of the first run, frame 2 again in the second
    assert sorted(int(str(v["frame"])) for v in verdicts) == [1, 2, 2, 3]
    assert any(m.startswith("Frame 2 failed its check:") and "renders once more" in m
               for m in job.messages), job.messages
    assert frames_in(shared / "out") == ["f_0001.png", "f_0002.png", "f_0002.png.invalid",
                                         "f_0003.png"]
    assert job.frames_done == 3


def test_a_frame_truncated_twice_on_the_node_fails_its_job(
        slurm_cluster: SlurmCluster, shared: Path, blend_factory: Factory,
        local_checks: list[CheckRequest]) -> None:
    blend = blend_factory(frames=3, samples=1)
    blender = damaging_blender(shared / "bin", frame=2, mode="truncate", times=5)
    batch = run_on_slurm(slurm_cluster, shared, blend, blender)
    job = batch.view().job(0)
    assert job.status == "FAILED"
    assert job.messages[-1].startswith("Frame 2 failed its check twice:"), job.messages
    assert damaged_count(shared / "bin", "truncate", 2) == 2
    assert [v["frame"] for v in node_verdicts(shared / "staging") if v["problem"]] == [2, 2]
    assert local_checks == []


def test_a_node_that_cannot_run_the_check_leaves_it_to_render_plus(
        slurm_cluster: SlurmCluster, shared: Path, blend_factory: Factory,
        local_checks: list[CheckRequest], monkeypatch: pytest.MonkeyPatch) -> None:
    """The task names a check script the node does not have: the task skips it, and the
    frames are checked by Render+ itself once the farm job ended: none is lost."""
    monkeypatch.setattr(tasks, "CHECK_SCRIPT", Path("/nowhere/check_frames_gone.py"))
    blend = blend_factory(frames=3, samples=1)
    blender = damaging_blender(shared / "bin", frame=2, mode="truncate", times=1)
    batch = run_on_slurm(slurm_cluster, shared, blend, blender)
    job = batch.view().job(0)
    assert job.status == "FINISHED", job.messages
    assert node_verdicts(shared / "staging") == []
    assert any(m.startswith("Frame 2 failed its check:") for m in job.messages), job.messages
    assert sorted(r.frame for r in local_checks) == [1, 2, 2, 3]
    assert frames_in(shared / "out") == ["f_0001.png", "f_0002.png", "f_0002.png.invalid",
                                         "f_0003.png"]


@pytest.mark.parametrize("farm", ["slurm"], indirect=True)
def test_cancel_of_a_task_that_checks_its_frames_leaves_no_blender(
        farm: Farm, shared: Path, blend_factory: Factory) -> None:
    """The task's script no longer execs Blender (the check follows it): a cancel still ends
    the render and runs no check."""
    blend = blend_factory(size=(320, 240), samples=4000, frames=3)
    recipe = make_recipe([{"blend_file": str(blend), "output": str(shared / "slow" / "f_####"),
                           "frames": "1-3"}], settings={"validate": {"black": True}})
    batch = Batch(recipe, RunOptions(), executor=farm.executor(shared, chunk_size=2, recipe=recipe))
    batch.start()
    wait_for(lambda: rendering(batch, 0), timeout=100)
    handle = batch.handle(0)
    assert handle is not None and handle.farm_id
    assert batch.cancel()
    assert batch.wait(45)
    assert batch.snapshot()["jobs"][0]["status"] == "CANCELLED"
    wait_for(lambda: not processes_with(str(shared / "staging")), timeout=15)
    assert node_verdicts(shared / "staging") == []
