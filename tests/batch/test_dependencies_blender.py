"""Jobs that wait for others (``after``) with the real Blender: with two slots the waiting job
starts only once its dependency has FINISHED while an independent job renders beside it; a
dependency that fails fails the waiting job with the reason and nothing of it runs; a resumed
batch counts a dependency finished in its first run as finished."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import Batch
from renderplus.batch.store import BatchStore
from tests.batch.conftest import make_recipe

pytestmark = [pytest.mark.blender, pytest.mark.slow]
Factory = Callable[..., Path]


def one_frame(blend: Path, out: Path, name: str, **keys: Any) -> dict[str, Any]:
    return {"name": name, "blend_file": str(blend), "output": str(out / f"{name}_"), **keys}


def rendered(out: Path, name: str) -> list[str]:
    return sorted(p.name for p in out.glob(f"{name}_*.png"))


def test_two_slots_the_waiting_job_starts_after_its_dependency_an_independent_one_beside(
        tmp_path: Path, blend_factory: Factory) -> None:
    quick, slower = blend_factory(), blend_factory(size=(160, 120), samples=64, frames=3)
    plates = one_frame(slower, tmp_path, "plates", animated=True, frame_start=1, frame_end=3)
    batch = Batch(make_recipe([one_frame(quick, tmp_path, "comp", after=[1]), plates,
                               one_frame(quick, tmp_path, "extra")], settings={"parallel": 2}))
    seen_running: set[tuple[int, ...]] = set()
    revision = batch.revision
    batch.start()
    while not batch.wait(0):
        seen_running.add(batch.view().running_jobs)
        revision = batch.wait_change(revision, timeout=5)
    view = batch.view()
    assert [job.status for job in view.jobs] == ["FINISHED"] * 3, [j.messages for j in view.jobs]
    assert (1, 2) in seen_running                     # plates and extra rendered at once
    assert not any(0 in running and 1 in running for running in seen_running)
    comp, plates_view = view.job(0), view.job(1)
    assert "Waiting for job 1 'plates'" in comp.messages
    assert plates_view.times.finished is not None and comp.times.started is not None
    assert plates_view.times.finished <= comp.times.started
    assert plates_view.process.exited is not None and comp.process.started is not None
    assert plates_view.process.exited <= comp.process.started
    assert view.order == (1, 2, 0)
    assert rendered(tmp_path, "comp") == ["comp_0001.png"] and len(rendered(tmp_path, "plates")) == 3


@pytest.mark.parametrize("fault", ["missing-blend", "missing-camera"])
def test_a_failed_dependency_fails_the_waiting_job_and_nothing_of_it_runs(
        tmp_path: Path, blend_factory: Factory, fault: str) -> None:
    quick = blend_factory()
    if fault == "missing-blend":
        plates = one_frame(tmp_path / "gone.blend", tmp_path, "plates")
    else:
        plates = one_frame(quick, tmp_path, "plates", camera="NoSuchCamera")
    hook_ran = tmp_path / "hook-ran"
    comp = one_frame(quick, tmp_path, "comp", after=[0], hooks={"PRE_JOB": [f"touch {hook_ran}"]})
    batch = Batch(make_recipe([plates, comp, one_frame(quick, tmp_path, "extra", after=[])],
                              settings={"parallel": 2}))
    batch.start()
    assert batch.wait(120)
    view = batch.view()
    assert [job.status for job in view.jobs] == ["FAILED", "FAILED", "FINISHED"], \
        [j.messages for j in view.jobs]
    assert view.job(1).messages[-1] == "Not rendered: job 0 'plates' failed"
    assert view.job(1).process.started is None and view.job(1).times.started is None
    assert not hook_ran.exists() and rendered(tmp_path, "comp") == []
    assert rendered(tmp_path, "extra") == ["extra_0001.png"]


def test_a_resumed_batch_counts_a_dependency_finished_in_its_first_run(
        tmp_path: Path, blend_factory: Factory) -> None:
    quick = blend_factory()
    allowed = tmp_path / "comp-may-run"
    store = BatchStore.open(tmp_path / "store")
    recipe = make_recipe([one_frame(quick, tmp_path, "plates"),
                          one_frame(quick, tmp_path, "comp", after=[0],
                                    hooks={"PRE_JOB": [f"test -e {allowed}"]})])
    first = Batch(recipe, store=store)
    first.start()
    assert first.wait(120)
    assert [job.status for job in first.view().jobs] == ["FINISHED", "FAILED"]
    plates_file = tmp_path / "plates_0001.png"
    before = plates_file.stat().st_mtime_ns
    assert first.store_id is not None
    allowed.touch()
    again = Batch.restore(store.load(first.store_id), store)
    again.start()
    assert again.wait(120)
    view = again.view()
    assert [job.status for job in view.jobs] == ["FINISHED", "FINISHED"], [j.messages for j in view.jobs]
    assert plates_file.stat().st_mtime_ns == before              # not rendered again
    waited = "Waiting for job 0 'plates'"     # said in the first run only: not again
    assert first.view().job(1).messages.count(waited) == view.job(1).messages.count(waited) == 1
    assert rendered(tmp_path, "comp") == ["comp_0001.png"]
    store.close()
