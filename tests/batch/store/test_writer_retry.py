"""The recorder keeps a batch's changes while its store's disk is full and writes them once it
can again (issue 19, item 7). A real full disk: a small tmpfs filled with a file, then freed."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from renderplus.batch.recipe import Recipe, parse_recipe
from renderplus.batch.store import BatchStore, StoreWriter, pending
from renderplus.batch.view import BatchStatus, JobStatus
from tests.mounts import small_tmpfs
from tests.waiting import wait_for


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "disk", "8m") as mount:
        yield mount


def fill(disk: Path) -> None:
    subprocess.run(f"cat /dev/zero > {disk / 'filler'}", shell=True, capture_output=True, check=False)


def recipe(frames: Path) -> Recipe:
    return parse_recipe({"version": 2.2, "name": "night", "jobs": [
        {"id": i, "name": f"shot{i}", "blend_file": str(frames / "x.blend")} for i in range(2)]})


def frame_file(folder: Path, frame: int) -> str:
    path = folder / f"f_{frame:04d}.png"
    path.write_bytes(b"a frame")
    return str(path)


def test_changes_made_while_the_disk_is_full_reach_the_store_once_it_is_freed(
        disk: Path, tmp_path: Path) -> None:
    reports: list[str] = []
    store = BatchStore.open(disk)
    writer = StoreWriter(store, reports.append, retry_every=0.05)
    writer.create(recipe(tmp_path), [JobStatus.QUEUED, JobStatus.QUEUED])
    batch_id = writer.batch_id
    assert batch_id is not None
    writer.batch(status=BatchStatus.RUNNING, started=1.0)
    fill(disk)
    writer.job(0, status=JobStatus.RUNNING, started=2.0)
    assert len(reports) == 1 and reports[0].startswith("The batch store cannot be written")
    assert "is full" in reports[0]
    for frame in range(1, 6):
        assert writer.frame(0, frame, [frame_file(tmp_path, frame)])  # verified, kept for later
    writer.forget(0, [5])
    writer.job(0, status=JobStatus.FINISHED, finished=3.0)
    writer.batch(status=BatchStatus.FINISHED, finished=4.0, owner=None)
    assert store.load(batch_id).status is BatchStatus.RUNNING  # nothing written yet
    assert len(reports) == 1  # said once
    (disk / "filler").unlink()
    wait_for(lambda: not writer.pending, timeout=10)  # the background retry, with no new change
    stored = store.load(batch_id)
    assert stored.status is BatchStatus.FINISHED and stored.finished == 4.0 and not stored.interrupted
    assert stored.jobs[0].status is JobStatus.FINISHED and stored.jobs[0].started == 2.0
    assert sorted(store.frames(batch_id, 0)) == [1, 2, 3, 4]
    assert reports[-1].startswith("The batch store can be written again")
    writer.job(1, status=JobStatus.RUNNING)  # and changes are written at once again
    assert store.load(batch_id).jobs[1].status is JobStatus.RUNNING
    store.close()


def test_past_its_bound_the_store_is_given_up_for_the_batch(disk: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pending, "MAX_PENDING", 3)
    reports: list[str] = []
    store = BatchStore.open(disk)
    writer = StoreWriter(store, reports.append, retry_every=3600)
    writer.create(recipe(tmp_path), [JobStatus.QUEUED, JobStatus.QUEUED])
    fill(disk)
    for frame in range(1, 5):
        writer.frame(0, frame, [frame_file(tmp_path, frame)])
    assert writer.store is None and not writer.pending
    assert reports[-1].startswith("The batch store stopped: more than")
    store.close()
