"""Pausing a batch with the real Blender (docs/engine-api.md, Pause): now, after the frame and
after the job, for a process per job, a Blender session and two parallel slots. Afterwards no
Blender of the batch runs (no idle session either), the frames written before the pause keep
their inode and mtime, and the batch continues in place: only what is missing renders (each
frame is written once), PRE_JOB hooks run again, PRE_BATCH does not, the stopped jobs' POST_JOB
hooks did not run. Also: pausing twice, continuing what is not paused, cancelling a paused
batch, and a paused batch after Render+ was killed (during the pause, and once paused)."""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.observers import BatchEvent, ObserverContext
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.runner import Batch, RunOptions
from renderplus.batch.service import BatchRunningError, BatchService, PauseError
from renderplus.batch.store import BatchStore
from renderplus.batch.view import BatchStatus, BatchView, JobStatus
from tests.batch.service_driver import start_service
from tests.procs import pids_in_group, processes_with
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]
Factory = Callable[..., Path]
FRAMES = 6
JOBS = 3
EXECUTORS: dict[str, dict[str, Any]] = {
    "process": {"session_reuse": False}, "session": {"session_reuse": True},
    "two slots": {"parallel": 2}}


class Heard:
    """An observer that keeps the names of the events it hears."""

    after_batch = None

    def __init__(self) -> None:
        self.events: list[str] = []

    def notify(self, event: BatchEvent) -> None:
        self.events.append(type(event).__name__)


@pytest.fixture
def scene(tmp_path: Path, blend_factory: Factory) -> Path:
    """A .blend of this test's own (its path finds this test's Blenders in /proc), whose frames
    take a few tenths of a second each."""
    return Path(shutil.copy(blend_factory(size=(96, 72), samples=100, frames=FRAMES),
                            tmp_path / "scene.blend"))


def recipe_data(tmp_path: Path, blend: Path, settings: dict[str, Any], jobs: int = JOBS
                ) -> dict[str, Any]:
    trail = tmp_path / "trail"

    def hook(phase: str) -> dict[str, str]:
        return {"cmd": f"echo {phase} $RENDERPLUS_JOB_ID >> {trail}"}
    return {"version": 2.2, "name": "pause", "settings": settings,
            "hooks": {"PRE_BATCH": [{"cmd": f"echo batch >> {trail}"}]},
            "jobs": [{"id": i, "name": f"job{i}", "blend_file": str(blend),
                      "output": str(tmp_path / "out" / f"j{i}_"), "animated": True,
                      "frame_start": 1, "frame_end": FRAMES,
                      "hooks": {"PRE_JOB": [hook("pre")], "POST_JOB": [hook("post")]}}
                     for i in range(jobs)]}


def frames_on_disk(tmp_path: Path) -> dict[str, tuple[int, int]]:
    """Each written frame's inode and mtime (ns)."""
    found = {}
    for path in (tmp_path / "out").glob("j*_*.png"):
        stat = path.stat()
        found[path.name] = (stat.st_ino, stat.st_mtime_ns)
    return found


def trail(tmp_path: Path) -> list[str]:
    path = tmp_path / "trail"
    return path.read_text().split("\n")[:-1] if path.exists() else []


def blenders_left(blend: Path, batch: Batch) -> list[int]:
    """Live Blenders of this batch: by the .blend they opened, and in the groups recorded."""
    groups = [handle.pgid for job in range(len(batch.recipe.jobs))
              if (handle := batch.handle(job)) and handle.pgid]
    return processes_with(str(blend)) + [pid for pgid in groups for pid in pids_in_group(pgid)]


def frames_written_per_path(log_dir: Path) -> Counter[str]:
    logs = list(log_dir.glob("renderplus_*"))
    assert len(logs) == 1, logs  # the paused batch goes on writing its own log
    written: Counter[str] = Counter()
    for line in logs[0].read_text().splitlines():
        if line.startswith("RENDERPLUS> ") and '"frame"' in line:
            marker = json.loads(line[len("RENDERPLUS> "):])
            if marker.get("event") == "frame":
                written[marker["path"]] += 1
    return written


def pause_and_continue(tmp_path: Path, blend: Path, settings: dict[str, Any], when: str
                       ) -> tuple[BatchView, list[int], list[str]]:
    """Run, pause ``when`` once frames are written, check that nothing runs and what was kept,
    continue; the paused view, each running job's frames when the pause was asked, and the
    hooks' trail when paused."""
    heard = Heard()

    def observer(context: ObserverContext) -> Heard:
        return heard
    recipe = parse_recipe(recipe_data(tmp_path, blend, settings))
    options = RunOptions(write_log=True, log_dir=str(tmp_path / "logs"))
    batch = Batch(recipe, options, observers=[observer])
    batch.start()
    slots = settings.get("parallel", 1)
    wait_for(lambda: len(batch.view().running_jobs) == slots
             and all(batch.view().job(j).frames_done >= 1 for j in batch.view().running_jobs),
             timeout=180, interval=0.02)
    asked = [batch.view().job(j).frames_done for j in range(JOBS)]
    assert batch.pause(when)
    assert batch.pause(when) is False            # pausing twice: the same pause
    wait_for(lambda: batch.status is BatchStatus.PAUSED, timeout=120, interval=0.02)
    paused = batch.view()
    assert paused.pausing is None and "pausing" not in paused.to_json()
    assert not blenders_left(blend, batch)
    assert heard.events.count("BatchPaused") == 1 and "BatchEnded" not in heard.events
    assert batch.pause("now") is False           # it is paused
    # Kept: the frames reported (marker) and so checked and recorded. A "now" pause may end a
    # Blender after it saved a frame but before it reported it: that frame was in progress, and
    # renders again (one per running job at most).
    reported = {Path(path).name for path in frames_written_per_path(tmp_path / "logs")}
    on_disk_when_paused = frames_on_disk(tmp_path)
    kept = {name: stamp for name, stamp in on_disk_when_paused.items() if name in reported}
    assert len(on_disk_when_paused) - len(kept) <= (slots if when == "now" else 0)
    hooks_when_paused = trail(tmp_path)

    assert batch.resume_paused()
    assert batch.resume_paused() is False        # it runs again
    assert batch.wait(300)
    done = batch.view()
    assert [job.status for job in done.jobs] == [JobStatus.FINISHED] * JOBS, \
        [job.messages for job in done.jobs]
    on_disk = frames_on_disk(tmp_path)
    assert len(on_disk) == JOBS * FRAMES
    assert {name: on_disk[name] for name in kept} == kept   # same inode, same mtime
    written = frames_written_per_path(tmp_path / "logs")
    assert len(written) == JOBS * FRAMES and set(written.values()) == {1}, written
    assert trail(tmp_path).count("batch") == 1  # PRE_BATCH not again
    assert heard.events.count("BatchEnded") == 1
    return paused, asked, hooks_when_paused


@pytest.mark.parametrize("executor", list(EXECUTORS))
def test_pause_now_ends_every_blender_and_loses_only_the_frame_in_progress(
        tmp_path: Path, scene: Path, executor: str) -> None:
    settings = EXECUTORS[executor]
    paused, asked, hooks = pause_and_continue(tmp_path, scene, settings, "now")
    stopped = [job.id for job in paused.jobs if job.frames_done]
    assert stopped == list(range(settings.get("parallel", 1)))
    for job_id in stopped:
        job = paused.job(job_id)
        assert job.status is JobStatus.QUEUED and job.frames_done <= asked[job_id] + 1
        assert f"post {job_id}" not in hooks
        assert trail(tmp_path).count(f"pre {job_id}") == 2  # PRE_JOB again when it continued
    assert paused.job(JOBS - 1).status is JobStatus.QUEUED and paused.job(JOBS - 1).frames_done == 0


@pytest.mark.parametrize("executor", list(EXECUTORS))
def test_pause_after_the_frame_finishes_the_frame_in_progress(
        tmp_path: Path, scene: Path, executor: str) -> None:
    settings = EXECUTORS[executor]
    paused, asked, hooks = pause_and_continue(tmp_path, scene, settings, "frame")
    for job_id in range(settings.get("parallel", 1)):
        job = paused.job(job_id)
        assert job.status is JobStatus.QUEUED, job.messages
        # The frame in progress was finished, never dropped (pause_and_continue: every frame on
        # disk was reported and kept). A pause asked between a frame's report and the script's
        # look for the stop file finds no frame in progress: the job stops at the frame it had.
        assert asked[job_id] <= job.frames_done < FRAMES, (asked, job.frames_done)
        assert f"post {job_id}" not in hooks


@pytest.mark.parametrize("executor", list(EXECUTORS))
def test_pause_after_the_job_lets_the_running_jobs_finish(
        tmp_path: Path, scene: Path, executor: str) -> None:
    settings = EXECUTORS[executor]
    paused, _, hooks = pause_and_continue(tmp_path, scene, settings, "job")
    running = settings.get("parallel", 1)
    for job_id in range(running):
        assert paused.job(job_id).status is JobStatus.FINISHED
        assert f"post {job_id}" in hooks
    assert paused.job(JOBS - 1).status is JobStatus.QUEUED and paused.job(JOBS - 1).frames_done == 0
    assert f"pre {JOBS - 1}" not in hooks


def test_a_service_pauses_upgrades_refuses_and_continues(tmp_path: Path, scene: Path) -> None:
    service = BatchService(work_dir=tmp_path)
    recipe = parse_recipe(recipe_data(tmp_path, scene, {"session_reuse": False}, jobs=2))
    service.load_recipe(recipe)
    batch = service.start()
    wait_for(lambda: batch.view().job(0).frames_done >= 1, timeout=180, interval=0.02)
    service.pause("job")
    with pytest.raises(PauseError, match="already pausing"):
        service.pause("job")
    assert batch.pausing == "job" and batch.view().to_json()["pausing"] == "job"
    service.pause("now")                          # a stronger pause upgrades it
    wait_for(lambda: service.paused, timeout=60, interval=0.02)
    assert batch.view().job(0).status is JobStatus.QUEUED  # "now" stopped the job "job" waited for
    with pytest.raises(PauseError, match="already paused"):
        service.pause("frame")
    with pytest.raises(BatchRunningError, match="POST /queue"):
        service.load_recipe(recipe)
    with pytest.raises(BatchRunningError):
        service.start()
    assert service.resume() is batch
    assert batch.wait(300) and batch.status is BatchStatus.FINISHED


def test_cancelling_a_paused_batch(tmp_path: Path, scene: Path) -> None:
    store = BatchStore.open(tmp_path / "store")
    heard = Heard()

    def observer(context: ObserverContext) -> Heard:
        return heard
    recipe = parse_recipe(recipe_data(tmp_path, scene, {"session_reuse": True}, jobs=2))
    batch = Batch(recipe, store=store, observers=[observer])
    batch.start()
    wait_for(lambda: batch.view().job(0).frames_done >= 1, timeout=180, interval=0.02)
    assert batch.pause("now")
    wait_for(lambda: batch.status is BatchStatus.PAUSED, timeout=60, interval=0.02)
    assert batch.store_id is not None and store.load(batch.store_id).status is BatchStatus.PAUSED
    kept = frames_on_disk(tmp_path)
    assert batch.cancel()
    assert batch.wait(30)
    assert batch.status is BatchStatus.CANCELLED
    assert [job.status for job in batch.view().jobs] == [JobStatus.CANCELLED] * 2
    assert store.load(batch.store_id).status is BatchStatus.CANCELLED
    assert batch.resume_paused() is False
    assert heard.events[-1] == "BatchEnded" and "BatchPaused" in heard.events
    assert frames_on_disk(tmp_path) == kept and not blenders_left(scene, batch)


# Two frames in the view: the first one's frame marker (which records it in the store) has
# been read, since Blender prints it before the second frame's lines (a "Saved:" line alone
# counts a frame in the view before its marker records it).
WAIT_FOR_A_FRAME = """
while service.view().job(0).frames_done < 2:
    time.sleep(0.02)
"""


def restart_and_continue(tmp_path: Path, blend: Path, driver: Any) -> None:
    """Kill the Render+ of ``driver`` (-9), open the store in a new service: the batch shows
    PAUSED (not resumable) and continues; the frames it had written stay as they were."""
    kept = frames_on_disk(tmp_path)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait(10)
    wait_for(lambda: not processes_with(str(blend)), timeout=30)  # its Blenders die with it
    service = BatchService(work_dir=tmp_path, store=BatchStore.open(tmp_path))
    view = service.view()
    assert view is not None and view.status is BatchStatus.PAUSED and not view.resumable
    assert service.paused and not service.running
    assert view.job(0).frames_done >= 1 and view.job(1).status is JobStatus.QUEUED
    with pytest.raises(BatchRunningError):
        service.start()
    batch = service.resume()
    assert batch.wait(300)
    assert [job.status for job in batch.view().jobs] == [JobStatus.FINISHED] * 2, \
        [job.messages for job in batch.view().jobs]
    assert trail(tmp_path).count("batch") == 1
    on_disk = frames_on_disk(tmp_path)
    assert len(on_disk) == 2 * FRAMES
    assert {name: on_disk[name] for name in kept} == kept


def test_a_paused_batch_survives_a_kill_and_continues(tmp_path: Path, scene: Path) -> None:
    then = WAIT_FOR_A_FRAME + """
service.pause("now")
while not service.paused:
    time.sleep(0.02)
print("paused", flush=True)
"""
    driver = start_service(tmp_path, recipe_data(tmp_path, scene, {"session_reuse": True}, jobs=2),
                           then=then)
    assert driver.stdout is not None and driver.stdout.readline().strip() == "paused"
    restart_and_continue(tmp_path, scene, driver)


def test_a_kill_during_a_pause_restarts_paused(tmp_path: Path, scene: Path) -> None:
    then = WAIT_FOR_A_FRAME + """
service.pause("job")
print("pausing", flush=True)
"""
    driver = start_service(tmp_path, recipe_data(tmp_path, scene, {"session_reuse": False}, jobs=2),
                           then=then)
    assert driver.stdout is not None and driver.stdout.readline().strip() == "pausing"
    assert BatchStore.open(tmp_path).latest().status is BatchStatus.PAUSED  # type: ignore[union-attr]
    restart_and_continue(tmp_path, scene, driver)
