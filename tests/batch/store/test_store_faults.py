"""The store under faults, for real: another process holding the lock, a full disk (a small
tmpfs), a read-only folder, files that are not stores, a network filesystem, and SIGKILL at
random moments of a long run of state changes."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from renderplus.batch.store import STORE_FILE, BatchStore, NewJob, StoreError, filesystem_type
from renderplus.batch.store import errors as store_errors
from tests.mounts import small_tmpfs
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[3]
CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def new_batch(store: BatchStore) -> int:
    return store.create_batch("b", "{}", "/", None, [NewJob(0, "only", "/a.blend")])


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB disk of our own, to fill."""
    with small_tmpfs(tmp_path / "disk", "512k") as mount:
        yield mount


def hold_lock(path: Path, exclusive_mode: bool = False) -> subprocess.Popen[str]:
    """Another process that takes the store's write lock (or, with ``exclusive_mode``, the
    whole file) and keeps it until killed."""
    pragma = "c.execute('PRAGMA locking_mode = EXCLUSIVE'); " if exclusive_mode else ""
    commit = "c.execute('COMMIT'); " if exclusive_mode else ""
    child = subprocess.Popen(
        [sys.executable, "-c", f"import sqlite3, time; c = sqlite3.connect({str(path)!r}, "
         f"isolation_level=None); {pragma}c.execute('BEGIN EXCLUSIVE'); {commit}"
         "print('held', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def test_a_locked_store_is_a_sentence_within_the_busy_timeout(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path, busy_timeout=0.5)
    batch_id = new_batch(store)
    holder = hold_lock(store.path)
    try:
        start = time.monotonic()
        with pytest.raises(StoreError, match=r"is locked: another Render\+ .* more than 0.5 s"):
            store.update_job(batch_id, 0, attempts=1)
        assert 0.4 < time.monotonic() - start < 3.0
        assert store.load(batch_id).jobs[0].attempts == 0        # reads go on meanwhile
        BatchStore.open(tmp_path, busy_timeout=0.5).close()      # so does opening it
    finally:
        holder.kill()
        holder.wait(timeout=30)
    store.update_job(batch_id, 0, attempts=1)                    # and it recovers
    assert store.load(batch_id).jobs[0].attempts == 1
    store.close()


def test_a_store_held_in_exclusive_mode_cannot_be_opened(tmp_path: Path) -> None:
    BatchStore.open(tmp_path).close()
    holder = hold_lock(tmp_path / STORE_FILE, exclusive_mode=True)
    try:
        start = time.monotonic()
        with pytest.raises(StoreError, match="is locked"):
            BatchStore.open(tmp_path, busy_timeout=0.5)
        assert time.monotonic() - start < 3.0
    finally:
        holder.kill()
        holder.wait(timeout=30)
    BatchStore.open(tmp_path).close()


def test_a_full_disk_keeps_the_last_committed_state(small_disk: Path) -> None:
    store = BatchStore.open(small_disk)
    batch_id = new_batch(store)
    space = os.statvfs(small_disk)
    (small_disk / "filler").write_bytes(b"\0" * (space.f_bavail * space.f_frsize - 48 * 1024))
    written = 0
    with pytest.raises(StoreError, match=r"disk holding the Render\+ store .* is full"):
        for frame in range(10_000):
            store.add_frame(batch_id, 0, frame, f"/out/{'x' * 1500}/{frame}.png", frame, frame, frame)
            store.update_job(batch_id, 0, attempts=frame + 1)
            written += 1
    assert 0 < written < 10_000
    assert len(store.frames(batch_id, 0)) in (written, written + 1)
    store.close()
    with BatchStore.open(small_disk) as again:                  # still full: opens all the same
        frames = again.frames(batch_id, 0)
        attempts = again.load(batch_id).jobs[0].attempts
        assert attempts == written and len(frames) in (written, written + 1)
    assert integrity(small_disk / STORE_FILE) == "ok"
    (small_disk / "filler").unlink()
    with BatchStore.open(small_disk) as again:
        again.update_job(batch_id, 0, attempts=written + 100)
        assert again.load(batch_id).jobs[0].attempts == written + 100


def test_a_read_only_folder_is_named(small_disk: Path) -> None:
    BatchStore.open(small_disk).close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(StoreError, match=r"cannot be written: its folder .* is read-only"):
        BatchStore.open(small_disk)
    with pytest.raises(StoreError, match="read-only"):
        BatchStore.open(small_disk / "new")


@pytest.mark.parametrize("content", [
    b"these are not the pages you are looking for\n" * 300,
    b"SQLite format 3\0" + b"\xff" * 4000,
])
def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / STORE_FILE
    path.write_bytes(content)
    with pytest.raises(StoreError, match=r"is not a Render\+ store, or is damaged.*move it away"):
        BatchStore.open(tmp_path)
    assert path.read_bytes() == content


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / STORE_FILE)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"not a Render\+ store.*something else"):
        BatchStore.open(tmp_path)


def test_a_damaged_record_is_a_store_error(tmp_path: Path) -> None:
    with BatchStore.open(tmp_path) as store:
        batch_id = new_batch(store)
        conn = sqlite3.connect(store.path)
        conn.execute("UPDATE jobs SET messages = 'not json'")
        conn.commit()
        conn.close()
        with pytest.raises(StoreError, match="cannot read"):
            store.load(batch_id)


MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
server:/export /mnt/net nfs4 rw,relatime 0 0
/dev/vdb /mnt/net/local ext4 rw 0 0
//nas/share /mnt/my\\040share cifs rw 0 0
"""


@pytest.mark.parametrize(("folder", "fstype"), [
    ("/home/ann/.local/state/renderplus", "ext4"),
    ("/mnt/net/renders/state", "nfs4"),
    ("/mnt/net", "nfs4"),
    ("/mnt/net/local/state", "ext4"),
    ("/mnt/network/state", "ext4"),
    ("/mnt/my share/x", "cifs"),
])
def test_filesystem_type_takes_the_longest_mount_prefix(folder: str, fstype: str) -> None:
    assert filesystem_type(Path(folder), MOUNTS) == fstype


def test_a_folder_on_a_network_filesystem_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/vda / ext4 rw 0 0\nnas:/vol {tmp_path / 'nfs'} nfs rw 0 0\n")
    monkeypatch.setattr(store_errors, "MOUNTS_FILE", mounts)
    with pytest.raises(StoreError, match=r"network filesystem \(nfs\).*local disk"):
        BatchStore.open(tmp_path / "nfs" / "state")
    assert not (tmp_path / "nfs").exists()
    BatchStore.open(tmp_path / "local").close()


def test_the_real_mount_table_lets_a_local_folder_through(tmp_path: Path) -> None:
    assert filesystem_type(tmp_path) not in store_errors.NETWORK_FILESYSTEMS
    BatchStore.open(tmp_path).close()


CHILD = """
import sys
from renderplus.batch.store import BatchStore
folder, batch_id, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
store = BatchStore.open(folder)
count = store.load(batch_id).jobs[0].attempts
with open(log, "a", buffering=1) as out:
    out.write(f"ready {count}\\n")
    while True:
        count += 1
        with store.transaction():
            store.add_frame(batch_id, 0, count, f"/out/{count:06d}.png", count, count, count)
            store.update_job(batch_id, 0, attempts=count, messages=[f"frame {count}"],
                             rendertime=float(count))
        out.write(f"{count}\\n")
"""


def last_committed(log: Path) -> int | None:
    lines = log.read_text().split()
    numbers = [int(word) for word in lines if word.isdigit()]
    return numbers[-1] if numbers else None


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_a_state_really_reached(tmp_path: Path) -> None:
    seed = int(os.environ.get("STORE_KILL_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    with BatchStore.open(tmp_path) as store:
        batch_id = new_batch(store)
    reached = 0
    for round_ in range(10):
        log = tmp_path / f"round{round_}.log"
        log.write_text("")
        child = subprocess.Popen([sys.executable, str(script), str(tmp_path), str(batch_id), str(log)],
                                 env=CHILD_ENV)
        if rng.random() < 0.2:                       # now and then while it starts or opens
            time.sleep(rng.uniform(0.0, 0.3))
        else:
            wait_for(lambda log=log: log.read_text().startswith("ready"), timeout=20, interval=0.005)
            time.sleep(rng.uniform(0.0, 0.5))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        said = last_committed(log)
        why = f"seed {seed}, round {round_}, child said {said}, before {reached}"
        assert integrity(tmp_path / STORE_FILE) == "ok", why
        with BatchStore.open(tmp_path) as store:
            job = store.load(batch_id).jobs[0]
            frames = store.frames(batch_id, 0)
        count = job.attempts
        assert count >= reached, why                              # never goes back
        if said is not None:
            assert count in (said, said + 1), why                 # a commit it finished survives
        else:
            assert count in (reached, reached + 1), why
        assert sorted(frames) == list(range(1, count + 1)), why   # the frames of that same state
        assert job.messages == ((f"frame {count}",) if count else ()), why
        assert job.rendertime == (float(count) if count else None), why
        reached = count
    assert reached > 10, f"seed {seed}: the child hardly ran ({reached} changes)"
