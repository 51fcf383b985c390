"""The store's calls on a real SQLite file: round trips, history, owners, threads, schema."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from renderplus.batch.executors.base import JobHandle
from renderplus.batch.store import (
    SCHEMA_VERSION,
    STORE_FILE,
    BatchStore,
    FrameFile,
    NewJob,
    Owner,
    StoreError,
)
from renderplus.batch.store import schema as store_schema
from renderplus.batch.view import BatchStatus, JobStatus

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(tmp_path: Path):
    with BatchStore.open(tmp_path) as opened:
        yield opened


def three_jobs(source: str = "/shots/a.blend") -> list[NewJob]:
    return [NewJob(0, "beauty", source), NewJob(1, "mist", source),
            NewJob(2, "off", source, JobStatus.DISABLED)]


def test_open_makes_one_file_in_the_folder_in_wal_mode(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "state"
    BatchStore.open(folder).close()
    conn = sqlite3.connect(folder / STORE_FILE)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    version = conn.execute("SELECT version FROM schema_version").fetchone()[0]
    assert version == SCHEMA_VERSION == max(store_schema.MIGRATIONS)
    conn.close()


def test_default_folder_is_the_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    with BatchStore.open() as store:
        assert store.path == tmp_path / "xdg" / "renderplus" / STORE_FILE
    assert store.path.is_file()


def test_create_and_load_round_trip(store: BatchStore) -> None:
    owner = Owner.current()
    batch_id = store.create_batch("night", '{"version": 2.2}', "/shots", owner, three_jobs())
    batch = store.load(batch_id)
    assert (batch.id, batch.name, batch.recipe_json, batch.base_dir) == (
        batch_id, "night", '{"version": 2.2}', "/shots")
    assert batch.status is BatchStatus.WAITING and batch.owner == owner
    assert batch.started is None and batch.finished is None and batch.messages == ()
    assert [(j.job_id, j.name, j.status) for j in batch.jobs] == [
        (0, "beauty", JobStatus.QUEUED), (1, "mist", JobStatus.QUEUED), (2, "off", JobStatus.DISABLED)]
    assert all(j.attempts == 0 and j.handle is None and j.frames_done == 0 for j in batch.jobs)
    assert time.time() - batch.created < 60


def test_update_batch_changes_only_the_given_fields(store: BatchStore) -> None:
    batch_id = store.create_batch("b", "{}", "/", Owner.current(), three_jobs())
    store.update_batch(batch_id, status=BatchStatus.RUNNING, started=100.5, messages=["go", "é"])
    store.update_batch(batch_id, finished=200.25)
    batch = store.load(batch_id)
    assert (batch.status, batch.started, batch.finished, batch.messages) == (
        BatchStatus.RUNNING, 100.5, 200.25, ("go", "é"))
    other = Owner(4242, "boot", 17)
    store.update_batch(batch_id, finished=None, owner=other)
    batch = store.load(batch_id)
    assert batch.finished is None and batch.started == 100.5 and batch.owner == other
    store.update_batch(batch_id, owner=None)
    assert store.load(batch_id).owner is None


def test_update_job_round_trips_every_field(store: BatchStore) -> None:
    batch_id = store.create_batch("b", "{}", "/", None, three_jobs())
    handle = JobHandle("local", 1, pid=321, pgid=321, boot_id="boot", start_ticks=99,
                       argv=("blender", "-b", "a b.blend"))
    store.update_job(batch_id, 1, status=JobStatus.RUNNING, started=10.0, attempts=2, handle=handle,
                     messages=["attempt 2: killed by SIGSEGV"], peak_mem_mb=1536.5)
    store.update_job(batch_id, 1, status=JobStatus.FINISHED, finished=70.0, rendertime=60.0)
    job = store.load(batch_id).jobs[1]
    assert (job.status, job.started, job.finished, job.attempts, job.handle, job.messages,
            job.peak_mem_mb, job.rendertime) == (
        JobStatus.FINISHED, 10.0, 70.0, 2, handle, ("attempt 2: killed by SIGSEGV",), 1536.5, 60.0)
    store.update_job(batch_id, 1, handle=None, peak_mem_mb=None)
    job = store.load(batch_id).jobs[1]
    assert job.handle is None and job.peak_mem_mb is None and job.attempts == 2
    assert store.load(batch_id).jobs[0].status is JobStatus.QUEUED     # the others untouched


def test_unknown_batch_or_job_is_a_store_error(store: BatchStore) -> None:
    batch_id = store.create_batch("b", "{}", "/", None, three_jobs())
    with pytest.raises(StoreError, match="no batch 99"):
        store.load(99)
    with pytest.raises(StoreError, match="no batch 99"):
        store.update_batch(99, status=BatchStatus.RUNNING)
    with pytest.raises(StoreError, match=f"no job 7 in batch {batch_id}"):
        store.update_job(batch_id, 7, attempts=1)
    with pytest.raises(StoreError, match=f"no job 7 in batch {batch_id}"):
        store.update_job(batch_id, 7)
    with pytest.raises(StoreError, match="no job 7"):
        store.add_frame(batch_id, 7, 1, "/o/1.png", 1, 1, 1)
    with pytest.raises(ValueError):
        store.update_job(batch_id, 0, status="BOGUS")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.update_job(batch_id, 0, messages="one string")


def test_frames_round_trip_with_several_files_per_frame(store: BatchStore) -> None:
    batch_id = store.create_batch("b", "{}", "/", None, three_jobs())
    store.add_frame(batch_id, 0, 1, "/o/0001.png", 100, 111, 7)
    store.add_frame(batch_id, 0, 1, "/o/passes/0001.exr", 900, 112, 8)
    store.add_frame(batch_id, 0, -3, "/o/-003.png", 50, 113, 9)
    store.add_frame(batch_id, 1, 1, "/o/mist0001.png", 10, 114, 10)
    store.add_frame(batch_id, 0, 1, "/o/0001.png", 120, 222, 11)      # re-rendered: replaced
    frames = store.frames(batch_id, 0)
    assert sorted(frames) == [-3, 1]
    assert frames[1].files == (FrameFile("/o/0001.png", 120, 222, 11),
                               FrameFile("/o/passes/0001.exr", 900, 112, 8))
    assert frames[-3].files == (FrameFile("/o/-003.png", 50, 113, 9),)
    assert [j.frames_done for j in store.load(batch_id).jobs] == [2, 1, 0]
    assert store.frames(batch_id, 2) == {}
    assert store.forget_frames(batch_id, 0, [1, 5]) == 2
    assert sorted(store.frames(batch_id, 0)) == [-3]
    assert store.forget_frames(batch_id, 1) == 1
    assert store.frames(batch_id, 1) == {}


def test_frame_table_is_indexed_by_batch_job_frame(store: BatchStore) -> None:
    conn = sqlite3.connect(store.path)
    plan = " ".join(str(row) for row in conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM frames WHERE batch_id = 1 AND job_id = 2 AND frame = 3"))
    conn.close()
    assert "PRIMARY KEY" in plan or "INDEX" in plan, plan


def test_transaction_is_all_or_nothing(store: BatchStore) -> None:
    batch_id = store.create_batch("b", "{}", "/", None, three_jobs())
    with pytest.raises(RuntimeError), store.transaction():
        store.add_frame(batch_id, 0, 1, "/o/1.png", 1, 1, 1)
        with store.transaction():                                  # nested: joins the outer
            store.update_job(batch_id, 0, attempts=5)
        assert store.load(batch_id).jobs[0].attempts == 5          # sees its own changes
        raise RuntimeError("stop")
    assert store.frames(batch_id, 0) == {} and store.load(batch_id).jobs[0].attempts == 0
    with store.transaction():
        store.add_frame(batch_id, 0, 1, "/o/1.png", 1, 1, 1)
        store.update_job(batch_id, 0, attempts=1)
    assert len(store.frames(batch_id, 0)) == 1 and store.load(batch_id).jobs[0].attempts == 1


def test_history_is_newest_first_and_paged(store: BatchStore) -> None:
    ids = [store.create_batch(f"b{i}", "{}", "/", None, three_jobs()) for i in range(5)]
    store.update_job(ids[3], 0, status=JobStatus.FAILED)
    store.update_job(ids[3], 1, status=JobStatus.FAILED)
    store.update_batch(ids[3], status=BatchStatus.FINISHED, started=1.0, finished=2.0)
    page = store.history()
    assert [s.id for s in page] == ids[::-1] and ids == sorted(ids)
    assert [s.name for s in store.history(limit=2, offset=1)] == ["b3", "b2"]
    summary = page[1]
    assert (summary.status, summary.jobs, summary.failed, summary.started, summary.finished) == (
        BatchStatus.FINISHED, 3, 2, 1.0, 2.0)
    assert summary.to_json()["status"] == "FINISHED" and json.dumps(summary.to_json())
    assert store.history(limit=10, offset=5) == []
    assert store.latest() is not None and store.latest().id == ids[-1]  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        store.history(limit=-1)


def test_latest_of_an_empty_store_is_none(store: BatchStore) -> None:
    assert store.latest() is None and store.history() == [] and store.interrupted() == []


def test_job_history_gives_ended_runs_of_the_same_job_of_the_same_file(store: BatchStore) -> None:
    runs = []
    for peak in (100.0, 200.0, 300.0):
        batch_id = store.create_batch("b", "{}", "/", None, three_jobs())
        store.update_job(batch_id, 0, status=JobStatus.FINISHED, finished=peak, rendertime=peak / 10,
                         peak_mem_mb=peak)
        store.add_frame(batch_id, 0, 1, "/o/1.png", 1, 1, 1)
        store.add_frame(batch_id, 0, 1, "/o/1.exr", 1, 1, 2)
        store.add_frame(batch_id, 0, 2, "/o/2.png", 1, 1, 3)
        runs.append(batch_id)
    failed = store.create_batch("b", "{}", "/", None, three_jobs())
    store.update_job(failed, 0, status=JobStatus.FAILED, peak_mem_mb=9000.0)
    running = store.create_batch("b", "{}", "/", None, three_jobs())
    store.update_job(running, 0, status=JobStatus.RUNNING)
    other_file = store.create_batch("b", "{}", "/", None, three_jobs("/shots/b.blend"))
    store.update_job(other_file, 0, status=JobStatus.FINISHED, rendertime=1.0)

    past = store.job_history("/shots/a.blend", "beauty")
    assert [(r.batch_id, r.status) for r in past] == [
        (failed, JobStatus.FAILED), (runs[2], JobStatus.FINISHED), (runs[1], JobStatus.FINISHED),
        (runs[0], JobStatus.FINISHED)]
    assert (past[1].rendertime, past[1].peak_mem_mb, past[1].frames_done, past[1].job_id) == (
        30.0, 300.0, 2, 0)
    assert [r.batch_id for r in store.job_history("/shots/a.blend", "beauty", limit=2,
                                                  exclude_batch=failed)] == [runs[2], runs[1]]
    assert store.job_history("/shots/a.blend", "mist") == []
    assert store.job_history("/shots/c.blend", "beauty") == []


def _owner_of_child(code: str) -> tuple[subprocess.Popen[str], Owner]:
    child = subprocess.Popen(
        [sys.executable, "-c", "import json, sys; from renderplus.batch.store import Owner; "
         "o = Owner.current(); print(json.dumps([o.pid, o.boot_id, o.start_ticks]), flush=True); "
         + code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout is not None
    pid, boot, ticks = json.loads(child.stdout.readline())
    return child, Owner(pid, boot, ticks)


def test_interrupted_lists_running_batches_whose_owner_died(store: BatchStore) -> None:
    dead_child, dead = _owner_of_child("")
    dead_child.wait(timeout=30)
    live_child, live = _owner_of_child("sys.stdin.read()")
    try:
        crashed = store.create_batch("crashed", "{}", "/", dead, three_jobs())
        alive = store.create_batch("alive", "{}", "/", live, three_jobs())
        mine = store.create_batch("mine", "{}", "/", Owner.current(), three_jobs())
        ended = store.create_batch("ended", "{}", "/", dead, three_jobs())
        for batch_id in (crashed, alive, mine):
            store.update_batch(batch_id, status=BatchStatus.RUNNING)
        store.update_batch(ended, status=BatchStatus.FINISHED)
        assert [b.id for b in store.interrupted()] == [crashed]
        assert store.load(crashed).interrupted and not store.load(alive).interrupted
    finally:
        live_child.kill()
        live_child.wait(timeout=30)
    assert [b.id for b in store.interrupted()] == [crashed, alive]


def test_a_reused_pid_is_not_the_owner(store: BatchStore) -> None:
    me = Owner.current()
    assert me.alive()
    assert me.start_ticks is not None
    assert not Owner(me.pid, me.boot_id, me.start_ticks + 1).alive()     # same pid, later process
    assert not Owner(me.pid, "another-boot", me.start_ticks).alive()    # before a reboot


def test_readers_in_other_threads_do_not_wait_for_an_open_write(store: BatchStore) -> None:
    batch_id = store.create_batch("b", "{}", "/", None, three_jobs())
    inside, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.transaction():
            store.update_job(batch_id, 0, attempts=9)
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(10)
        seen: list[int] = []
        reader = threading.Thread(target=lambda: seen.append(store.load(batch_id).jobs[0].attempts))
        start = time.monotonic()
        reader.start()
        reader.join(5)
        assert seen == [0] and time.monotonic() - start < 1.0      # the committed state, at once
    finally:
        release.set()
        thread.join(10)
    assert store.load(batch_id).jobs[0].attempts == 9


def test_a_store_from_a_newer_render_plus_is_refused(tmp_path: Path) -> None:
    BatchStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / STORE_FILE)
    conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=rf"newer Render\+ .*schema version {SCHEMA_VERSION + 1}"):
        BatchStore.open(tmp_path)


def test_migration_path_upgrades_an_older_store_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with BatchStore.open(tmp_path) as store:
        batch_id = store.create_batch("old", "{}", "/", None, three_jobs())
    step = ("ALTER TABLE jobs ADD COLUMN gpu TEXT",)
    later = SCHEMA_VERSION + 1
    monkeypatch.setitem(store_schema.MIGRATIONS, later, step)
    monkeypatch.setattr(store_schema, "SCHEMA_VERSION", later)
    with BatchStore.open(tmp_path) as store:
        assert store.load(batch_id).name == "old"
    conn = sqlite3.connect(tmp_path / STORE_FILE)
    assert conn.execute("SELECT version FROM schema_version").fetchone()[0] == later
    assert "gpu" in [row[1] for row in conn.execute("PRAGMA table_info(jobs)")]
    conn.close()


def test_synchronous_mode_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NORMAL, FULL"):
        BatchStore.open(tmp_path, synchronous="OFF")
    BatchStore.open(tmp_path, synchronous="full").close()


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="is closed"):
        store.history()
    with pytest.raises(StoreError, match="is closed"):
        store.create_batch("b", "{}", "/", None)
