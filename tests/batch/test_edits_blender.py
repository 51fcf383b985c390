"""Changing a running batch with the real Blender, for a process per job, a session and two
parallel slots: a job added while rendering and moved next runs next, a skipped one never
renders, an EEVEE job added to a Cycles session batch renders in a process of its own; and a
Render+ killed after the edits comes back with the added jobs and the order (docs/engine-api.md,
Changing a running batch)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import Batch, RunOptions
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from renderplus.batch.view import BatchView
from tests.batch.conftest import make_recipe
from tests.batch.service_driver import start_service
from tests.procs import processes_with
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]
Factory = Callable[..., Path]


def one_frame(blend: Path, out: Path, name: str) -> dict[str, Any]:
    return {"name": name, "blend_file": str(blend), "output": str(out / f"{name}_")}


def started(view: BatchView, job_id: int) -> float:
    moment = view.job(job_id).process.started
    assert moment is not None, f"job {job_id} never started its Blender: {view.job(job_id)}"
    return moment


def rendered(out: Path, name: str) -> list[str]:
    return sorted(p.name for p in out.glob(f"{name}_*.png"))


def test_process_per_job_add_move_next_and_skip(tmp_path: Path, blend_factory: Factory) -> None:
    slow, quick = blend_factory(size=(320, 240), samples=4000, frames=1), blend_factory()
    batch = Batch(make_recipe([one_frame(slow, tmp_path, "held"), one_frame(quick, tmp_path, "a"),
                               one_frame(quick, tmp_path, "b")]), RunOptions(kill_grace=2.0))
    batch.start()
    wait_for(lambda: batch.view().job(0).process.started)
    [late] = batch.add_jobs(one_frame(quick, tmp_path, "late"))
    batch.move_job(late, 0)
    batch.set_job_enabled(1, False)
    assert batch.view().order == (0, 3, 2, 1)
    assert batch.cancel_job(0)
    assert batch.wait(120)
    view = batch.view()
    assert [job.status for job in view.jobs] == ["CANCELLED", "DISABLED", "FINISHED", "FINISHED"]
    assert started(view, 3) < started(view, 2)      # the moved job ran next
    assert view.job(1).process.started is None and not rendered(tmp_path, "a")
    assert rendered(tmp_path, "late") == ["late_0001.png"]
    assert view.order == (0, 3, 2, 1)
    handle = batch.handle(3)
    assert handle is not None and handle.executor == "local"


def test_a_job_added_to_a_cycles_session_without_a_proven_engine_renders_in_its_own_process(
        tmp_path: Path, blend_factory: Factory) -> None:
    """The added job names no engine (its file's own, EEVEE here): not one proven identical in a
    session, so it gets a process of its own."""
    slow = blend_factory(size=(320, 240), samples=4000, frames=1)
    quick = blend_factory()
    eevee = blend_factory(engine="BLENDER_EEVEE", samples=1)
    cycles = {"engine": "CYCLES"}   # every job proven identical in a session: one is used
    batch = Batch(make_recipe([{**one_frame(slow, tmp_path, "held"), **cycles},
                               {**one_frame(quick, tmp_path, "c"), **cycles},
                               {**one_frame(quick, tmp_path, "d"), **cycles}]),
                  RunOptions(kill_grace=2.0))
    batch.start()
    wait_for(lambda: batch.view().job(0).process.started)
    first = batch.handle(0)
    assert first is not None and first.executor == "session"   # all Cycles: one session
    [added] = batch.add_jobs(one_frame(eevee, tmp_path, "eevee"))
    batch.move_job(added, 0)
    assert batch.cancel_job(0)
    assert batch.wait(180)
    view = batch.view()
    assert [job.status for job in view.jobs] == ["CANCELLED", "FINISHED", "FINISHED", "FINISHED"], \
        [job.messages for job in view.jobs]
    own, after = batch.handle(added), batch.handle(1)
    assert own is not None and own.executor == "local"          # a process of its own
    assert after is not None and after.executor == "session"    # Cycles stays in a session
    assert started(view, added) < started(view, 1)
    exited = view.job(added).process.exited
    assert exited is not None and exited <= started(view, 1)    # one slot: never side by side
    assert view.job(added).engine_type == "BLENDER_EEVEE"
    assert rendered(tmp_path, "eevee") == ["eevee_0001.png"]


def test_two_slots_an_added_job_moved_next_takes_the_next_free_slot(
        tmp_path: Path, blend_factory: Factory) -> None:
    slow, quick = blend_factory(size=(320, 240), samples=4000, frames=1), blend_factory()
    batch = Batch(make_recipe([one_frame(slow, tmp_path, "held0"), one_frame(slow, tmp_path, "held1"),
                               one_frame(quick, tmp_path, "a"), one_frame(quick, tmp_path, "b")],
                              settings={"parallel": 2}), RunOptions(kill_grace=2.0))
    batch.start()
    wait_for(lambda: batch.view().job(0).process.started and batch.view().job(1).process.started)
    [late] = batch.add_jobs(one_frame(quick, tmp_path, "late"))
    batch.move_job(late, 0)
    batch.set_job_enabled(3, False)
    assert batch.cancel_job(0)
    wait_for(lambda: batch.view().job(late).process.started, timeout=60)
    assert batch.view().job(2).process.started is None   # the moved job took the free slot
    assert batch.cancel_job(1)
    assert batch.wait(120)
    view = batch.view()
    assert [job.status for job in view.jobs] == ["CANCELLED", "CANCELLED", "FINISHED", "DISABLED",
                                                 "FINISHED"]
    assert started(view, late) < started(view, 2)
    assert not rendered(tmp_path, "b")


def test_a_restart_after_kill_9_restores_the_added_jobs_and_the_order(
        tmp_path: Path, blend_factory: Factory) -> None:
    slow, quick = blend_factory(size=(96, 72), samples=600, frames=1), blend_factory()
    out = tmp_path / "out"
    out.mkdir()
    work = tmp_path / "work"
    recipe = {"version": 2.2, "name": "night", "jobs": [
        {"id": i, **one_frame(blend, out, f"shot{i}")} for i, blend in enumerate((slow, quick, quick))]}
    edits = (f"while service.view().job(0).status != 'RUNNING': time.sleep(0.02)\n"
             f"service.add_jobs([{one_frame(quick, out, 'added3')!r}, {one_frame(quick, out, 'added4')!r}])\n"
             "service.move_job(4, 0)\n"
             "service.set_job_enabled(1, False)\n"
             "print('edited', flush=True)\n")
    driver = start_service(work, recipe, then=edits)
    assert driver.stdout is not None and driver.stdout.readline().strip() == "edited"
    os.killpg(driver.pid, signal.SIGKILL)   # job 0 still renders
    driver.wait(10)
    wait_for(lambda: not processes_with(str(out)), timeout=15)

    service = BatchService(work_dir=work, store=BatchStore.open(work))
    shown = service.view()
    assert shown is not None and shown.resumable
    assert [job.name for job in shown.jobs] == ["shot0", "shot1", "shot2", "added3", "added4"]
    assert [job.status for job in shown.jobs] == ["CANCELLED", "DISABLED", "QUEUED", "QUEUED",
                                                  "QUEUED"]
    assert shown.order == (0, 4, 2, 3, 1)
    batch = service.resume()
    assert batch.wait(180)
    view = batch.view()
    assert [job.status for job in view.jobs] == ["FINISHED", "DISABLED", "FINISHED", "FINISHED",
                                                 "FINISHED"], [job.messages for job in view.jobs]
    assert started(view, 0) < started(view, 4) < started(view, 2) < started(view, 3)
    assert not rendered(out, "shot1")
    assert view.order == (0, 4, 2, 3, 1)
    service.shutdown()
