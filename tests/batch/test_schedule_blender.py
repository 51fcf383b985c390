"""A window's end while the real Blender renders (docs/engine-api.md, When to render): the
batch's clock is injected and reaches the window's end once the first frame is written; the
batch pauses after the frame in progress (the frames written stay as they are, no Blender is
left), is PAUSED with ``continues_at`` the window's next start, and continues by itself when
the clock gets there: only the missing frames render, each frame is written once."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.clock import ManualClock
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.runner import Batch, RunOptions
from renderplus.batch.view import BatchStatus, JobStatus
from tests.batch.schedule_fakes import at
from tests.batch.test_pause import frames_on_disk, frames_written_per_path
from tests.procs import processes_with
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]
FRAMES = 8


def test_the_window_end_pauses_a_real_batch_after_its_frame_and_its_start_continues_it(
        tmp_path: Path, blend_factory: Callable[..., Path]) -> None:
    blend = Path(shutil.copy(blend_factory(size=(96, 72), samples=200, frames=FRAMES),
                             tmp_path / "scene.blend"))
    recipe = parse_recipe({
        "version": 2.2, "name": "night", "settings": {"window": {"start": "22:00", "end": "06:00"}},
        "jobs": [{"id": 0, "name": "shot", "blend_file": str(blend), "animated": True,
                  "frame_start": 1, "frame_end": FRAMES, "output": str(tmp_path / "out" / "j0_")}]})
    clock = ManualClock(at("23:00"))
    batch = Batch(recipe, RunOptions(clock=clock, write_log=True, log_dir=str(tmp_path / "logs")))
    batch.start()
    end = at("06:00", days=1)
    clock.wait_for_timer(end)
    wait_for(lambda: batch.view().job(0).frames_done >= 1, timeout=180, interval=0.02)
    clock.set(end)                              # the window ends while the next frame renders
    wait_for(lambda: batch.status is BatchStatus.PAUSED, timeout=120, interval=0.02)
    paused = batch.view()
    job = paused.job(0)
    assert job.status is JobStatus.QUEUED and 1 <= job.frames_done < FRAMES, job
    assert paused.continues_at == at("22:00", days=1)
    assert not processes_with(str(blend))       # no Blender of the batch is left
    kept = frames_on_disk(tmp_path)
    assert len(kept) == job.frames_done
    assert clock.pending == [at("22:00", days=1)]

    clock.set(at("22:00", days=1))              # the next start: it continues by itself
    assert batch.wait(300)
    done = batch.view()
    assert done.status is BatchStatus.FINISHED and done.job(0).status is JobStatus.FINISHED, \
        done.job(0).messages
    on_disk = frames_on_disk(tmp_path)
    assert len(on_disk) == FRAMES
    assert {name: on_disk[name] for name in kept} == kept   # same inode and mtime
    written = frames_written_per_path(tmp_path / "logs")
    assert len(written) == FRAMES and set(written.values()) == {1}, written
