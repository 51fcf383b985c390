"""A quit is an interruption, never a cancel (docs/engine-api.md, BatchService): a Render+ whose
process ends normally while a batch runs (Blender quitting: its add-on calls
``BatchService.suspend`` from ``atexit`` or ``exit_pre``) leaves the batch PAUSED with the frames
written, no Blender behind, and the next start continues it, rendering only what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from renderplus.batch.view import BatchStatus, JobStatus
from tests.batch.service_driver import start_service
from tests.batch.test_pause import FRAMES, WAIT_FOR_A_FRAME, frames_on_disk, recipe_data, scene, trail
from tests.procs import processes_with

pytestmark = [pytest.mark.blender, pytest.mark.slow]
__all__ = ["scene"]  # the fixture, shared with the pause tests

QUIT = WAIT_FOR_A_FRAME + """
import atexit
atexit.register(service.suspend)
print("quitting", flush=True)
raise SystemExit(0)
"""


@pytest.mark.parametrize("settings", [{"session_reuse": True}, {"parallel": 2}],
                         ids=["session", "two slots"])
def test_a_quit_pauses_the_batch_and_the_next_start_continues_it(
        tmp_path: Path, scene: Path, settings: dict[str, object]) -> None:
    driver = start_service(tmp_path, recipe_data(tmp_path, scene, settings, jobs=2), then=QUIT)
    assert driver.stdout is not None and driver.stdout.readline().strip() == "quitting"
    assert driver.wait(60) == 0
    assert not processes_with(str(scene))             # no Blender outlived the quit
    stored = BatchStore.open(tmp_path).latest()
    assert stored is not None and stored.status is BatchStatus.PAUSED   # not CANCELLED
    kept = frames_on_disk(tmp_path)
    assert kept

    service = BatchService(work_dir=tmp_path, store=BatchStore.open(tmp_path))
    view = service.view()
    assert view is not None and view.status is BatchStatus.PAUSED and service.paused
    assert all(job.status is not JobStatus.CANCELLED for job in view.jobs), view.jobs
    batch = service.resume()
    assert batch.wait(300)
    assert [job.status for job in batch.view().jobs] == [JobStatus.FINISHED] * 2, \
        [job.messages for job in batch.view().jobs]
    on_disk = frames_on_disk(tmp_path)
    assert len(on_disk) == 2 * FRAMES
    assert {name: on_disk[name] for name in kept} == kept    # same inode, same mtime
    assert trail(tmp_path).count("batch") == 1               # PRE_BATCH once


def test_a_quit_with_nothing_running_changes_nothing(tmp_path: Path) -> None:
    service = BatchService(work_dir=tmp_path, store=BatchStore.open(tmp_path))
    assert service.suspend(timeout=1) is False
    assert BatchStore.open(tmp_path).latest() is None
