"""A store whose disk fills during a batch (issue 19, item 7), with the real Blender and a real
full disk: a small tmpfs holds the store, a hook fills it with a file and a later hook removes
that file. The batch's changes wait in memory and reach the store once it can be written
again, so the batch ends FINISHED in the store and a resume renders nothing. A run that dies
while the store cannot be written still keeps, on resume, the frames it wrote (after the job
started, whole), never a file of unknown origin at the same path."""

from __future__ import annotations

import os
import signal
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from renderplus.batch.outputs import stamp
from renderplus.batch.service import BatchService, NothingToResumeError
from renderplus.batch.store import BatchStore
from renderplus.batch.view import BatchStatus
from tests.batch.conftest import make_recipe
from tests.batch.service_driver import start_service
from tests.mounts import small_tmpfs
from tests.procs import processes_with
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]
Factory = Callable[..., Path]


@pytest.fixture
def store_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB disk for the store alone (frames and logs live elsewhere): room for its write-ahead
    log, which grows to 4 MiB before SQLite folds it into the file."""
    with small_tmpfs(tmp_path / "store-disk", "8m") as mount:
        yield mount


def fill(disk: Path) -> str:
    return f"cat /dev/zero > {disk / 'filler'} 2>/dev/null; true"


def test_a_store_that_fills_and_frees_during_the_batch_gets_every_change(
        tmp_path: Path, blend_factory: Factory, store_disk: Path) -> None:
    blend = blend_factory(frames=2)
    out = tmp_path / "out"
    jobs = [{"blend_file": str(blend), "animated": True, "frame_start": 1, "frame_end": 2,
             "output": str(out / f"job{i}_####")} for i in range(3)]
    jobs[1]["hooks"] = {"PRE_JOB": [{"cmd": fill(store_disk)}]}           # the disk fills
    jobs[2]["hooks"] = {"PRE_JOB": [{"cmd": f"rm -f {store_disk / 'filler'}"}]}  # and is freed
    store = BatchStore.open(store_disk)
    service = BatchService(work_dir=tmp_path / "work", store=store)
    service.load_recipe(make_recipe(jobs))
    batch = service.start()
    assert batch.wait(300)
    view = batch.view()
    assert view.status == "FINISHED", [job.messages for job in view.jobs]
    batch_id = batch.store_id
    assert batch_id is not None

    def stored_finished() -> bool:
        return store.load(batch_id).status is BatchStatus.FINISHED
    wait_for(stored_finished, timeout=30)  # the end, written at once or by the retry
    stored = store.load(batch_id)
    failing = [m for m in stored.messages if m.startswith("The batch store cannot be written")]
    assert len(failing) == 1 and "is full" in failing[0], stored.messages
    assert any(m.startswith("The batch store can be written again") for m in stored.messages)
    assert [job.status for job in stored.jobs] == ["FINISHED"] * 3
    assert not stored.interrupted
    for job_id in range(3):
        assert sorted(store.frames(batch_id, job_id)) == [1, 2], job_id
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    assert len(before) == 6

    # a restart finds nothing interrupted, and a resume renders nothing
    store.close()
    store = BatchStore.open(store_disk)
    again = BatchService(work_dir=tmp_path / "work", store=store)
    assert again.interrupted_view() is None
    with pytest.raises(NothingToResumeError):
        again.resume()
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")} == before
    store.close()


def test_a_run_that_dies_while_the_store_is_full_keeps_the_frames_it_wrote_on_resume(
        tmp_path: Path, blend_factory: Factory, store_disk: Path) -> None:
    blend = blend_factory(size=(96, 72), samples=300, frames=4)
    out = tmp_path / "out"
    out.mkdir()
    stranger = out / "shot_0004.png"  # a file of unknown origin where frame 4 will go
    stranger.write_bytes(whole_png())
    os.utime(stranger, (1_000_000_000, 1_000_000_000))
    once = tmp_path / "filled-once"  # the first run's hook fills the disk, the resume's does not
    recipe = {"version": 2.2, "name": "night", "jobs": [
        {"id": 0, "name": "shot", "blend_file": str(blend), "animated": True, "frame_start": 1,
         "frame_end": 4, "output": str(out / "shot_####"),
         "hooks": {"PRE_JOB": [{"cmd": f"[ -e {once} ] || {{ touch {once}; {fill(store_disk)}; }}"}]}}]}
    driver = start_service(tmp_path / "work", recipe, store=store_disk)
    written = [out / f"shot_000{n}.png" for n in (1, 2)]
    wait_for(lambda: all(stamp(str(p)) is not None for p in written), timeout=180)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait(10)
    wait_for(lambda: not processes_with(str(out)), timeout=15)
    (store_disk / "filler").unlink()
    if stamp(str(out / "shot_0003.png")) is not None:  # frame 3 was whole by the kill, too
        written.append(out / "shot_0003.png")
    kept = {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in written}

    store = BatchStore.open(store_disk)
    service = BatchService(work_dir=tmp_path / "work", store=store)
    shown = service.interrupted_view()
    assert shown is not None and shown.jobs[0].outputs == ()  # the store recorded no frame
    batch = service.resume()
    assert batch.wait(300)
    view = batch.view()
    assert view.status == "FINISHED" and view.jobs[0].status == "FINISHED", view.jobs[0].messages
    for path in written:  # kept, not rendered again
        assert (path.stat().st_mtime_ns, path.stat().st_ino) == kept[path.name]
    assert stranger.stat().st_mtime_ns > 1_000_000_000 * 10**9  # rendered over, not trusted
    said = [m for m in view.jobs[0].messages if m.startswith("Kept")]
    named = ", ".join(str(n) for n in range(1, len(written) + 1))
    assert len(said) == 1 and f"frames {named})" in said[0], view.jobs[0].messages
    handle = batch.handle(0)
    assert handle is not None
    argv = list(handle.argv)
    assert argv[argv.index("-s") + 1] == str(len(written) + 1), argv
    assert sorted(store.frames(batch.store_id or 0, 0)) == [1, 2, 3, 4]
    store.close()


def whole_png() -> bytes:
    """A whole 1x1 PNG, as any other program could have left there."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")
    header = (1).to_bytes(4, "big") * 2 + bytes([8, 6, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00\x00")) + chunk(b"IEND", b""))
