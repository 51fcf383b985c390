"""The session executor's hand-over from one job to the next, with the real Blender: job n has
ended (its last frame, FINISHED, its POST_JOB hooks) before job n+1 starts (its PRE_JOB hooks),
a poll never shows two RUNNING jobs at ``parallel`` 1, and a retry gets the session."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.executors.session import SessionExecutor
from renderplus.batch.observers import BatchEvent, JobChanged, ObserverContext
from renderplus.batch.runner import Batch
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from renderplus.batch.view import BatchStatus, JobStatus
from tests.batch.conftest import make_recipe
from tests.batch.service_driver import start_service
from tests.procs import processes_with
from tests.waiting import wait_for

pytestmark = pytest.mark.blender
Factory = Callable[..., Path]
JOBS = 10


class RunningJobs:
    """An observer that notes every job change and how many jobs the batch showed RUNNING."""

    def __init__(self, context: ObserverContext) -> None:
        self.changes: list[tuple[int, str, int]] = []   # (job, its new status, RUNNING jobs)

    def notify(self, event: BatchEvent) -> None:
        if isinstance(event, JobChanged) and event.job_id is not None:
            running = sum(job.status is JobStatus.RUNNING for job in event.view.jobs)
            self.changes.append((event.job_id, event.view.jobs[event.job_id].status.value, running))

    @property
    def after_batch(self) -> None:
        return None


def logging_hooks(log: Path) -> dict[str, list[dict[str, str]]]:
    """PRE_JOB and POST_JOB hooks that append "<job id> <phase>" to ``log``."""
    line = f'echo "$RENDERPLUS_JOB_ID $RENDERPLUS_HOOK" >> {log}'
    return {"PRE_JOB": [{"cmd": line}], "POST_JOB": [{"cmd": line}]}


def run_observed(recipe: Any) -> tuple[Batch, RunningJobs, list[int]]:
    """Run ``recipe`` with a ``RunningJobs`` observer and a poller; returns both's findings (the
    poller's: the most jobs it saw RUNNING at once, per poll)."""
    observers: list[RunningJobs] = []

    def observe(context: ObserverContext) -> RunningJobs:
        observers.append(RunningJobs(context))
        return observers[-1]

    batch = Batch(recipe, observers=[observe])
    polled: list[int] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            polled.append(len([job for job in batch.view().jobs if job.running]))
            done.wait(0.002)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        batch.run()
    finally:
        done.set()
        poller.join(5)
    [observer] = observers
    return batch, observer, polled


def test_each_job_ends_before_the_next_starts_over_every_transition(
        tmp_path: Path, blend_factory: Factory) -> None:
    """Ten one-frame Workbench jobs of one file in one session: POST_JOB of job n runs before
    PRE_JOB of job n+1 on each of the nine hand-overs, job n is FINISHED with its frame before
    job n+1 is RUNNING, and neither the observer nor a poll ever sees two RUNNING jobs."""
    blend = blend_factory(engine="BLENDER_WORKBENCH", frames=1)
    hook_log = tmp_path / "hooks.log"
    recipe = make_recipe([{"blend_file": str(blend), "output": str(tmp_path / f"job{i}_"),
                           "engine": "BLENDER_WORKBENCH", "hooks": logging_hooks(hook_log)}
                          for i in range(JOBS)])
    batch, observer, polled = run_observed(recipe)
    assert isinstance(batch.executors.used[0], SessionExecutor)
    view = batch.view()
    assert view.status is BatchStatus.FINISHED
    assert all(job.status is JobStatus.FINISHED for job in view.jobs), [j.messages for j in view.jobs]
    hooks = hook_log.read_text().split("\n")[:-1]
    assert hooks == [f"{job} {phase}" for job in range(JOBS) for phase in ("PRE_JOB", "POST_JOB")]
    assert [(job, status) for job, status, _ in observer.changes] == \
        [(job, status) for job in range(JOBS) for status in ("RUNNING", "FINISHED")]
    assert max(running for _, _, running in observer.changes) == 1
    assert polled and max(polled) <= 1


def test_a_retry_in_a_session_gets_the_session_and_blames_the_file(
        tmp_path: Path, blend_factory: Factory) -> None:
    """Two jobs whose .blend Blender cannot read, in a session batch with a retry: every attempt
    gets a Blender session (none fails as "busy with another job"), and the job's message names
    what Blender said about the file, not the executor; a readable job after them renders."""
    blend = blend_factory(engine="BLENDER_WORKBENCH", frames=1)
    broken = tmp_path / "broken.blend"
    broken.write_bytes(b"BLENDER-v304" + b"\0garbage" * 64)
    hook_log = tmp_path / "hooks.log"
    jobs = [{"blend_file": str(broken), "output": str(tmp_path / f"bad{i}_"),
             "engine": "BLENDER_WORKBENCH", "hooks": logging_hooks(hook_log)} for i in range(2)]
    jobs.append({"blend_file": str(blend), "output": str(tmp_path / "good_"),
                 "engine": "BLENDER_WORKBENCH", "hooks": logging_hooks(hook_log)})
    recipe = make_recipe(jobs, settings={"session_reuse": True, "retries": 1})
    batch, observer, polled = run_observed(recipe)
    view = batch.view()
    for job in view.jobs[:2]:
        assert job.status is JobStatus.FAILED
        said = " ".join(job.messages)
        assert "busy" not in said and "Cannot start Blender" not in said, said
        assert str(broken) in said or "File format is not supported" in said, said
    assert view.jobs[2].status is JobStatus.FINISHED, view.jobs[2].messages
    hooks = hook_log.read_text().split("\n")[:-1]
    assert hooks == [f"{job} {phase}" for job in range(3) for phase in ("PRE_JOB", "POST_JOB")]
    assert max(running for _, _, running in observer.changes) == 1
    assert polled and max(polled) <= 1


@pytest.mark.slow
def test_a_kill_while_the_next_job_prepares_never_renders_a_finished_frame_again(
        tmp_path: Path, blend_factory: Factory) -> None:
    """Render+ killed -9 while job 1's PRE_JOB hook runs (a session batch): job 0 was recorded
    FINISHED with its frame, and the resume renders job 0's frame not again."""
    blend = blend_factory(engine="BLENDER_WORKBENCH", frames=1)
    work, out = tmp_path / "work", tmp_path / "out"
    started, release = tmp_path / "hook-started", tmp_path / "hook-released"
    waiting = (f"if [ ! -e {started} ]; then touch {started}; "
               f"for i in $(seq 600); do [ -e {release} ] && break; sleep 0.1; done; fi")
    recipe = {"version": 2.2, "name": "hand-over", "jobs": [
        {"id": 0, "name": "job0", "blend_file": str(blend), "output": str(out / "job0_"),
         "engine": "BLENDER_WORKBENCH"},
        {"id": 1, "name": "job1", "blend_file": str(blend), "output": str(out / "job1_"),
         "engine": "BLENDER_WORKBENCH", "hooks": {"PRE_JOB": [{"cmd": waiting}]}}]}
    driver = start_service(work, recipe)
    try:
        wait_for(started.exists, timeout=120)
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(10)
    finally:
        release.touch()
    wait_for(lambda: not processes_with(str(out)), timeout=15)
    [frame] = out.glob("job0_*.png")
    stamp = frame.stat().st_mtime_ns, frame.stat().st_ino

    store = BatchStore.open(work)
    service = BatchService(work_dir=work, store=store)
    shown = service.view()
    assert shown is not None and shown.resumable
    assert shown.jobs[0].status is JobStatus.FINISHED, shown.jobs[0].messages
    assert shown.jobs[0].outputs == (str(frame),)
    batch = service.resume()
    assert batch.wait(120)
    assert [job.status for job in batch.view().jobs] == [JobStatus.FINISHED] * 2
    assert (frame.stat().st_mtime_ns, frame.stat().st_ino) == stamp, "job 0's frame rendered again"
    store.close()
